package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Unmarshal decodes one JSON value from body into dst, ignoring unknown
// fields. Every failure is an *Error whose message names what is wrong and
// where: a syntax error with its byte offset, a field of the wrong type
// with its path, or trailing data after the value.
func Unmarshal(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return Errorf("request body is empty, want a JSON object")
	}
	if !utf8.Valid(body) {
		// encoding/json would silently turn the bad bytes into U+FFFD,
		// changing the ids the caller sent.
		return Errorf("request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return describeDecodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Errorf("request body holds data after the JSON value")
	}
	return nil
}

func describeDecodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return Errorf("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return Errorf("request body must be %s, got %s", jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return Errorf("field %q must be %s, got %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf("malformed JSON: unexpected end of input")
	default:
		var fe *FieldError
		if errors.As(err, &fe) {
			return Errorf("%s", fe.Error())
		}
		return Errorf("malformed JSON: %v", err)
	}
}

// FieldError is returned by custom UnmarshalJSON methods to report a value
// that is well-formed JSON but not acceptable for its field.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q %s", e.Field, e.Reason) }

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	default:
		return "of type " + goKind
	}
}
