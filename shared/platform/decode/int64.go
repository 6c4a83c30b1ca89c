package decode

import (
	"bytes"

	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

// Int64 is an integer field sent as a JSON number or as a JSON string
// holding one, as gRPC-gateway sends int64 values (Stash's calls) and as the
// game server may send its counters. It is read with validate.Integer: no
// fraction or exponent. Decoding never fails: it parses the token at once
// and keeps the raw token only when it is not an integer, and Value reports
// the outcome, so that the error names the field's full path.
type Int64 struct {
	v   int64
	set bool
	bad int8   // badNone, badString (a quoted token that is not a JSON string) or badInteger
	raw string // the token, kept for the message when bad == badInteger
}

// Why an Int64 token is refused.
const (
	badNone    = 0
	badString  = 1
	badInteger = 2
)

// maxQuoted is how much of a refused token a message quotes.
const maxQuoted = 32

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int64) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	*n = Int64{set: true}
	digits := b
	if len(b) > 0 && b[0] == '"' {
		inner, ok := Unquote(b)
		if !ok {
			n.bad = badString
			return nil
		}
		digits = inner
	}
	v, err := validate.Integer(digits)
	if err != nil {
		n.bad, n.raw = badInteger, string(b)
		return nil
	}
	n.v = v
	return nil
}

// Set reports whether the field was present and not null.
func (n Int64) Set() bool { return n.set }

// Value returns the field's integer; path names it in errors.
func (n Int64) Value(path string) (int64, error) {
	switch {
	case !n.set:
		return 0, Errorf("missing field %q", path)
	case n.bad == badString:
		return 0, Errorf("field %q must be an integer", path)
	case n.bad == badInteger:
		return 0, Errorf("field %q must be an integer, got %s", path, Truncate(n.raw, maxQuoted))
	}
	return n.v, nil
}

// Get returns the field's integer and true when it is set and an integer,
// for callers that build the field's path only when they need an error.
func (n Int64) Get() (int64, bool) { return n.v, n.set && n.bad == badNone }
