package schematest_test

import (
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/stashapi/schematest"
)

const schema = `{
  "type": "object",
  "required": ["id", "price"],
  "properties": {
    "id": {"type": "string"},
    "kind": {"type": "string", "enum": ["A", "B"]},
    "count": {"type": "integer", "format": "int64"},
    "code": {"type": "integer", "format": "int32"},
    "ratio": {"type": "number", "format": "float"},
    "ok": {"type": "boolean"},
    "at": {"type": "string", "format": "date-time"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "meta": {"type": "object", "additionalProperties": {"type": "string"}},
    "any": {"type": "object", "properties": {"@type": {"type": "string"}}, "additionalProperties": {}},
    "price": {"type": "object", "title": "Price", "required": ["cents"], "properties": {"cents": {"type": "integer", "format": "int64"}}}
  }
}`

func TestValidate(t *testing.T) {
	s, err := schematest.Parse([]byte(schema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, doc string
		want      []string // substrings of the violations, in order; none: valid
	}{
		{"minimal", `{"id":"a","price":{"cents":1}}`, nil},
		{"everything", `{"id":"a","kind":"B","count":"9007199254740993","code":-5,"ratio":1.5,"ok":true,"at":"2026-11-21T12:00:00Z",
			"tags":["x"],"meta":{"k":"v"},"any":{"@type":"t","x":[1]},"price":{"cents":199}}`, nil},
		{"int64 as number", `{"id":"a","count":12,"price":{"cents":"199"}}`, nil},
		{"missing required", `{"id":"a"}`, []string{`$: missing required property "price"`}},
		{"nested required", `{"id":"a","price":{}}`, []string{`$.price: missing required property "cents"`}},
		{"unknown property", `{"id":"a","price":{"cents":1},"pricee":1}`, []string{`$: property "pricee" is not in the schema`}},
		{"unknown nested property", `{"id":"a","price":{"cents":1,"currency":"USD"}}`, []string{`$.price: property "currency"`}},
		{"wrong type", `{"id":1,"price":{"cents":1}}`, []string{"$.id: want a string, got a number"}},
		{"enum", `{"id":"a","kind":"C","price":{"cents":1}}`, []string{`$.kind: "C" is not one of A, B`}},
		{"fraction", `{"id":"a","price":{"cents":1.5}}`, []string{"$.price.cents: 1.5 is not a 64-bit integer"}},
		{"int64 string not a number", `{"id":"a","price":{"cents":"1x"}}`, []string{"$.price.cents: 1x is not"}},
		{"int32 as string", `{"id":"a","code":"5","price":{"cents":1}}`, []string{"$.code: want an integer number, got a string"}},
		{"int32 range", `{"id":"a","code":2147483648,"price":{"cents":1}}`, []string{"out of int32 range"}},
		{"date-time", `{"id":"a","at":"yesterday","price":{"cents":1}}`, []string{"not an RFC 3339 date-time"}},
		{"array items", `{"id":"a","tags":["x",2],"price":{"cents":1}}`, []string{"$.tags[1]: want a string"}},
		{"additionalProperties schema", `{"id":"a","meta":{"k":1},"price":{"cents":1}}`, []string{"$.meta.k: want a string"}},
		{"null is not an object", `{"id":"a","price":null}`, []string{"$.price: want an object, got null"}},
		{"boolean", `{"id":"a","ok":"yes","price":{"cents":1}}`, []string{"$.ok: want a boolean"}},
		{"not JSON", `{`, []string{"$: not JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Validate([]byte(tt.doc))
			if len(got) != len(tt.want) {
				t.Fatalf("violations %q, want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestParseRefusesUncheckedKeywords(t *testing.T) {
	for _, doc := range []string{
		`{"type":"object","properties":{"a":{"$ref":"#/definitions/x"}}}`,
		`{"type":"string","pattern":"^a$"}`,
		`{"type":"array","items":{"type":"string","minLength":1}}`,
		`{"type":"tuple"}`,
		`[]`,
	} {
		if _, err := schematest.Parse([]byte(doc)); err == nil {
			t.Errorf("Parse(%s) accepted a schema it cannot fully check", doc)
		}
	}
}
