// Package decode reads what a client sends (a JSON body, query values) into
// Go values, refusing what cannot be read with an *Error whose message
// names the field at fault. It is the decoding half of every request: the
// wire formats (stashapi) and the endpoints' decoders use it, and the HTTP
// layer (httpx, stashhttp) answers an *Error with 400. It imports no HTTP
// code, so the domain packages that decode Stash's calls pull in none.
//
// The rules a value must follow (an id, a quantity, a language tag) live in
// shared/platform/validate; this package words their refusals for a field.
package decode

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

// Error is a request that cannot be decoded: malformed, of the wrong
// shape, or holding a value a rule refuses. The caller must change the
// request before sending it again; HTTP answers it with 400.
type Error struct {
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// ID checks the identifier s of field with validate.ID and words a refusal
// as `field "<field>" <why>`.
func ID(field, s string) error {
	if err := validate.ID(s); err != nil {
		return Errorf("field %q %v", field, err)
	}
	return nil
}

// Null reports whether raw, a field's value as json.RawMessage keeps it, is
// absent (empty) or JSON null: the two mean the same in every format here.
func Null(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// Truncate cuts s to its first n bytes, marking the cut with "...", so that
// a message quoting what the client sent stays short.
func Truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Unquote returns the contents of the JSON string token b, and false when b
// is not a JSON string. A string without escapes (the common case) is
// returned as a slice of b, without allocating.
func Unquote(b []byte) ([]byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, false
	}
	if inner, ok := plainString(b); ok {
		return inner, true
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// plainString returns the contents of the JSON string token b when it holds
// no escape sequence, and false otherwise.
func plainString(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return nil, false
	}
	inner := b[1 : len(b)-1]
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			return nil, false
		}
	}
	return inner, true
}
