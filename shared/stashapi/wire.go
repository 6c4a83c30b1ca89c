// Package stashapi holds the wire format of the calls Stash makes to a game
// backend (its public OpenAPI, "swagger.v1.json"): request and response
// shapes, enums, and decoding of the gRPC-gateway JSON Stash sends, which
// may use lowerCamelCase or snake_case field names, enum names or numbers,
// and int64 values as JSON strings or numbers. Unknown fields are ignored.
package stashapi

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"github.com/tollgate-dev/tollgate/shared/httpx"
	"github.com/tollgate-dev/tollgate/shared/validate"
)

// Int64 is an int64 field as gRPC-gateway sends it: a JSON number or a JSON
// string holding one, read with validate.Integer (no fraction or exponent).
// Decoding parses the token at once and keeps the raw
// token only when it is not an integer; Value reports the outcome, so errors
// can name the field's full path.
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

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int64) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	*n = Int64{set: true}
	digits := b
	if len(b) > 0 && b[0] == '"' {
		inner, ok := plainString(b)
		if !ok {
			var s string
			if err := json.Unmarshal(b, &s); err != nil {
				n.bad = badString
				return nil
			}
			inner = []byte(s)
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

// plainString returns the contents of the JSON string token b when it holds
// no escape sequence (the common case), and false otherwise (decode it with
// encoding/json then).
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

// Set reports whether the field was present and not null.
func (n Int64) Set() bool { return n.set }

// Value returns the field's integer; path names it in errors.
func (n Int64) Value(path string) (int64, error) {
	switch {
	case !n.set:
		return 0, httpx.BadRequest("missing field %q", path)
	case n.bad == badString:
		return 0, httpx.BadRequest("field %q must be an integer", path)
	case n.bad == badInteger:
		return 0, httpx.BadRequest("field %q must be an integer, got %s", path, truncate([]byte(n.raw)))
	}
	return n.v, nil
}

// value returns the field's integer and true when it is set and valid, for
// callers that build the field's path only when they need an error.
func (n Int64) value() (int64, bool) { return n.v, n.set && n.bad == badNone }

// Enum is an enum field: its name, or its number as a JSON number or
// string. Values this version does not know are kept, never refused (Stash
// adds values over time).
type Enum struct {
	name   string
	number int64
	isNum  bool
	bad    bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *Enum) UnmarshalJSON(b []byte) error {
	*e = Enum{}
	switch {
	case bytes.Equal(b, []byte("null")):
	case len(b) > 0 && b[0] == '"':
		inner, ok := plainString(b)
		if !ok {
			var s string
			if err := json.Unmarshal(b, &s); err != nil {
				e.bad = true
				return nil
			}
			inner = []byte(s)
		}
		if mayBeNumber(inner) {
			if n, ok := enumNumber(inner); ok {
				e.number, e.isNum = n, true
				return nil
			}
		}
		e.name = enumName(inner)
	default:
		n, ok := enumNumber(b)
		if !ok {
			e.bad = true
			return nil
		}
		e.number, e.isNum = n, true
	}
	return nil
}

// enumNumber reads an enum number: an integer (validate.Integer) in int32
// range, as protobuf enums are.
func enumNumber(b []byte) (int64, bool) {
	n, err := validate.Integer(b)
	return n, err == nil && n >= math.MinInt32 && n <= math.MaxInt32
}

// mayBeNumber reports whether validate.Integer could accept s: an optional
// sign and digits only. (It spares enum names the cost of a failed parse.)
func mayBeNumber(s []byte) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return len(s) > 0 && s[0] >= '0' && s[0] <= '9'
}

// knownEnumNames holds every enum value name this version knows, so decoding
// one does not allocate.
var knownEnumNames = func() map[string]string {
	m := map[string]string{}
	for _, names := range [][]string{Environments, Platforms, Sources, PaymentTypes} {
		for _, n := range names {
			m[n] = n
		}
	}
	return m
}()

// enumName returns b as a string, shared with the known names when it is one.
func enumName(b []byte) string {
	if n, ok := knownEnumNames[string(b)]; ok {
		return n
	}
	return string(b)
}

// Name resolves the enum against its value names (index = number); an
// unknown number gives "UNKNOWN_<n>", an unknown name is kept as sent.
func (e Enum) Name(path string, names []string) (string, error) {
	switch {
	case e.bad:
		return "", httpx.BadRequest("field %q must be an enum name or number", path)
	case e.isNum:
		if e.number >= 0 && e.number < int64(len(names)) {
			return names[e.number], nil
		}
		return "UNKNOWN_" + strconv.FormatInt(e.number, 10), nil
	case e.name == "":
		return names[0], nil
	}
	return e.name, nil
}

func truncate(b []byte) string {
	if len(b) > 32 {
		return string(b[:32]) + "..."
	}
	return string(b)
}

// pick returns a unless it is empty, else b: the same field sent in
// lowerCamelCase (a) or snake_case (b).
func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func pickInt(a, b Int64) Int64 {
	if a.set {
		return a
	}
	return b
}

func pickEnum(a, b Enum) Enum {
	if a != (Enum{}) {
		return a
	}
	return b
}
