package decode_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
)

type unmarshalTarget struct {
	ID     string   `json:"id"`
	Qty    int      `json:"qty"`
	OK     bool     `json:"ok"`
	Tags   []string `json:"tags"`
	Nested struct {
		Price float64 `json:"price"`
	} `json:"nested"`
	Strict strictField `json:"strict"`
}

// strictField only accepts "good".
type strictField string

func (s *strictField) UnmarshalJSON(b []byte) error {
	if string(b) != `"good"` {
		return &decode.FieldError{Field: "strict", Reason: "must be \"good\""}
	}
	*s = "good"
	return nil
}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantMsg string // "" means success; otherwise the exact message
	}{
		{"object", `{"id":"a","qty":2,"ok":true,"tags":["x"],"nested":{"price":1.5}}`, ""},
		{"unknown fields ignored", `{"id":"a","extra":1,"more":{"deep":[1,2]}}`, ""},
		{"surrounding whitespace", "\n\t {\"id\":\"a\"} \r\n", ""},
		{"empty object", `{}`, ""},
		{"empty body", ``, "request body is empty, want a JSON object"},
		{"whitespace body", " \n\t ", "request body is empty, want a JSON object"},
		{"invalid UTF-8", "{\"id\":\"a\xff\"}", "request body is not valid UTF-8"},
		{"syntax error: trailing comma", `{"id":"a",}`, "malformed JSON at byte 11: invalid character '}' looking for beginning of object key string"},
		{"syntax error: bad literal", `{"ok":tru}`, "malformed JSON at byte 10: invalid character '}' in literal true (expecting 'e')"},
		{"syntax error: first byte", `x`, "malformed JSON at byte 1: invalid character 'x' looking for beginning of value"},
		{"truncated", `{"id":`, "malformed JSON: unexpected end of input"},
		{"truncated string", `{"id":"ab`, "malformed JSON: unexpected end of input"},
		{"type error: string for int", `{"qty":"2"}`, `field "qty" must be an integer, got string`},
		{"type error: float for int", `{"qty":1.5}`, `field "qty" must be an integer, got number 1.5`},
		{"type error: number for string", `{"id":7}`, `field "id" must be a string, got number`},
		{"type error: object for bool", `{"ok":{}}`, `field "ok" must be a boolean, got object`},
		{"type error: string for array", `{"tags":"x"}`, `field "tags" must be an array, got string`},
		{"type error: nested field path", `{"nested":{"price":"1"}}`, `field "nested.price" must be a number, got string`},
		{"type error: top level array", `[1,2]`, `request body must be an object, got array`},
		{"type error: top level string", `"x"`, `request body must be an object, got string`},
		{"trailing object", `{} {}`, "request body holds data after the JSON value"},
		{"trailing garbage", `{"id":"a"}x`, "request body holds data after the JSON value"},
		{"trailing bracket", `{}]`, "request body holds data after the JSON value"},
		{"trailing number", `{} 1`, "request body holds data after the JSON value"},
		{"field error from UnmarshalJSON", `{"strict":"bad"}`, `field "strict" must be "good"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst unmarshalTarget
			err := decode.Unmarshal([]byte(tt.body), &dst)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Unmarshal(%q) = %v, want nil", tt.body, err)
				}
				return
			}
			de := decodeError(t, err)
			if de.Message != tt.wantMsg {
				t.Errorf("Unmarshal(%q) message\n got %q\nwant %q", tt.body, de.Message, tt.wantMsg)
			}
		})
	}
}

func TestUnmarshalValues(t *testing.T) {
	var dst unmarshalTarget
	body := `{"id":"p-1","qty":3,"ok":true,"tags":["a","b"],"nested":{"price":2.25},"strict":"good","ignored":null}`
	if err := decode.Unmarshal([]byte(body), &dst); err != nil {
		t.Fatal(err)
	}
	want := unmarshalTarget{ID: "p-1", Qty: 3, OK: true, Tags: []string{"a", "b"}, Strict: "good"}
	want.Nested.Price = 2.25
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("Unmarshal = %+v, want %+v", dst, want)
	}
}

// The offset in the message is the one encoding/json reports, for syntax
// errors anywhere in the body.
func TestUnmarshalSyntaxOffset(t *testing.T) {
	bodies := []string{
		`{"a": 1, "b": [1, 2,, 3]}`,
		`{"a" 1}`,
		`{"a": "x" "b"}`,
		"{\n  \"a\": 1,\n  \"b\": nul\n}",
		`{"a": -}`,
	}
	for _, body := range bodies {
		t.Run(body, func(t *testing.T) {
			var v any
			var se *json.SyntaxError
			if !errors.As(json.Unmarshal([]byte(body), &v), &se) {
				t.Fatalf("test body %q is not a syntax error", body)
			}
			var m map[string]any
			de := decodeError(t, decode.Unmarshal([]byte(body), &m))
			if want := fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error()); de.Message != want {
				t.Errorf("message = %q, want %q", de.Message, want)
			}
		})
	}
}
