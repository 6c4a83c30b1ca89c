package decode_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
)

func TestDuplicateKey(t *testing.T) {
	for _, tt := range []struct {
		body, path string
		dup        bool
	}{
		{`{"amount":1,"amount":5000}`, "amount", true},
		{`{"paymentData":{"amount":1,"currency":"EUR","amount":2}}`, "paymentData.amount", true},
		{`{"a":{"x":1},"b":{"x":1}}`, "", false},
		{`{"items":[{"sku":"A"},{"sku":"B","sku":"C"}]}`, "items[1].sku", true},
		{`{"a":1,"\u0061":2}`, "a", true},           // equal once unescaped
		{`{"amount":1,"Amount":2}`, "Amount", true}, // encoding/json folds case
		{`[1,2,{"k":[{}]}]`, "", false},
		{`{"a":`, "", false}, // not JSON: the decoder's to say
		{`"x"`, "", false},
	} {
		path, dup := decode.DuplicateKey([]byte(tt.body))
		if path != tt.path || dup != tt.dup {
			t.Errorf("DuplicateKey(%s) = %q, %v; want %q, %v", tt.body, path, dup, tt.path, tt.dup)
		}
	}
}

// FuzzDuplicateKey: any input, no panic; a reported name is really given
// twice (case folded) in the text.
func FuzzDuplicateKey(f *testing.F) {
	for _, seed := range []string{`{"a":1,"a":2}`, `{"x":[{"b":1,"B":2}]}`, `[[[[{}]]]]`, `{"a":{"a":{"a":1}}}`, `{"\u00e9":1,"é":2}`, `{`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		path, dup := decode.DuplicateKey(body)
		if !dup {
			if path != "" {
				t.Fatalf("no duplicate but path %q", path)
			}
			return
		}
		name := path
		if i := strings.LastIndexAny(path, ".]"); i >= 0 {
			name = path[i+1:]
		}
		if !json.Valid(body) {
			t.Fatalf("duplicate %q reported in invalid JSON %q", path, body)
		}
		var count int
		dec := json.NewDecoder(bytes.NewReader(body))
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			if s, ok := tok.(string); ok && strings.EqualFold(s, name) {
				count++
			}
		}
		if count < 2 {
			t.Fatalf("%q reported twice in %q, seen %d times", name, body, count)
		}
	})
}
