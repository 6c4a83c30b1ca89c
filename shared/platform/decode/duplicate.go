package decode

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// DuplicateKey reports the first member name given twice in one object of
// the JSON text body (equal ignoring case: encoding/json matches a struct
// field's name so, and keeps the last), as a path ("paymentData.amount", "items[2].sku"),
// and true; false when there is none or body is not JSON (the decoder says
// why). A proxy or a log reader may take the first of two where the decoder
// takes the last: a strict API refuses both.
func DuplicateKey(body []byte) (string, bool) {
	if !json.Valid(body) {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	path, dup, _ := duplicateIn(dec, "")
	return path, dup
}

// duplicateIn reads one value from dec (at path) and looks for a repeated
// member name in it.
func duplicateIn(dec *json.Decoder, path string) (string, bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", false, err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			name, err := dec.Token()
			if err != nil {
				return "", false, err
			}
			key, _ := name.(string)
			at := key
			if path != "" {
				at = path + "." + key
			}
			folded := strings.ToLower(key)
			if seen[folded] {
				return at, true, nil
			}
			seen[folded] = true
			if at, dup, err := duplicateIn(dec, at); dup || err != nil {
				return at, dup, err
			}
		}
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if at, dup, err := duplicateIn(dec, path+"["+strconv.Itoa(i)+"]"); dup || err != nil {
				return at, dup, err
			}
		}
	default:
		return "", false, nil
	}
	_, err = dec.Token() // the closing delimiter
	return "", false, err
}
