// Package stashapi holds the wire format of the calls Stash makes to a game
// backend (its public OpenAPI, "swagger.v1.json"): request and response
// shapes, enums, and decoding of the gRPC-gateway JSON Stash sends, which
// may use lowerCamelCase or snake_case field names, enum names or numbers,
// and int64 values as JSON strings or numbers. Unknown fields are ignored.
package stashapi

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/tollgate-dev/tollgate/shared/httpx"
)

// Int64 is an int64 field as gRPC-gateway sends it: a JSON number or a JSON
// string holding one. Decoding keeps the raw token; Value validates it, so
// errors can name the field's full path.
type Int64 struct {
	raw []byte
	set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int64) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	n.raw = append(n.raw[:0], b...)
	n.set = true
	return nil
}

// Set reports whether the field was present and not null.
func (n Int64) Set() bool { return n.set }

// Value parses the field; path names it in errors.
func (n Int64) Value(path string) (int64, error) {
	if !n.set {
		return 0, httpx.BadRequest("missing field %q", path)
	}
	raw := n.raw
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, httpx.BadRequest("field %q must be an integer", path)
		}
		raw = []byte(s)
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, httpx.BadRequest("field %q must be an integer, got %s", path, truncate(n.raw))
	}
	return v, nil
}

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
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			e.bad = true
			return nil
		}
		if n, err := strconv.ParseInt(s, 10, 32); err == nil {
			e.number, e.isNum = n, true
		} else {
			e.name = s
		}
	default:
		n, err := strconv.ParseInt(string(b), 10, 32)
		if err != nil {
			e.bad = true
			return nil
		}
		e.number, e.isNum = n, true
	}
	return nil
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
