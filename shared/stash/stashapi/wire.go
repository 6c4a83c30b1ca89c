// Package stashapi holds the wire format of the calls Stash makes to a game
// backend (its public OpenAPI, "swagger.v1.json"): request and response
// shapes, enums, and decoding of the gRPC-gateway JSON Stash sends, which
// may use lowerCamelCase or snake_case field names, enum names or numbers,
// and int64 values as JSON strings or numbers (decode.Int64). Unknown fields
// are ignored. Refusals are *decode.Error values naming the field, which
// the HTTP layer (stashhttp) answers: this package imports neither net/http
// nor httpx.
package stashapi

import (
	"bytes"
	"math"
	"strconv"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

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
		inner, ok := decode.Unquote(b)
		if !ok {
			e.bad = true
			return nil
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
		return "", decode.Errorf("field %q must be an enum name or number", path)
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

// maxQuoted is how much of a refused value a message quotes, in bytes.
const maxQuoted = 32

// pick returns a unless it is empty, else b: the same field sent in
// lowerCamelCase (a) or snake_case (b).
func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func pickInt(a, b decode.Int64) decode.Int64 {
	if a.Set() {
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

// pickBool is a's value when it was sent, else b's, else false.
func pickBool(a, b *bool) bool {
	switch {
	case a != nil:
		return *a
	case b != nil:
		return *b
	}
	return false
}

// optionalInt is v's value at path, 0 when it was not sent.
func optionalInt(v decode.Int64, path string) (int64, error) {
	if !v.Set() {
		return 0, nil
	}
	return v.Value(path)
}
