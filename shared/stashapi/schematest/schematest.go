// Package schematest checks JSON documents against the subset of JSON Schema
// (Swagger 2.0 flavour) that Stash's response schemas use, so tests can hold
// Tollgate's answers to Stash's contract. It is for tests only.
//
// Keywords: type (object, array, string, integer, number, boolean), properties,
// required, enum (strings), items, additionalProperties (a schema, {} for
// anything, or false), and format: int64 (a JSON number or a string holding
// an integer, as gRPC-gateway writes int64), int32 (an integer number in
// range), date-time (RFC 3339), float and double. title and $comment are
// ignored; any other keyword is an error in the schema, so a schema using
// more than this package checks is not silently half-checked.
//
// Objects are closed: a property the schema does not declare is an error
// unless additionalProperties allows it. Stash's schemas leave objects
// open, but a field Stash does not know is a field Stash ignores, which for
// an answer Tollgate builds means a misspelt name.
package schematest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Schema is one parsed schema node.
type Schema struct {
	Type                 string             `json:"type"`
	Properties           map[string]*Schema `json:"properties"`
	Required             []string           `json:"required"`
	Enum                 []string           `json:"enum"`
	Items                *Schema            `json:"items"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
	Format               string             `json:"format"`

	additional *Schema // parsed additionalProperties; nil with allowAny false: none allowed
	allowAny   bool    // additionalProperties: {} or true
}

var known = []string{"type", "properties", "required", "enum", "items", "additionalProperties", "format", "title", "$comment", "default"}

// Parse parses a schema document, refusing keywords this package does not
// check.
func Parse(data []byte) (*Schema, error) {
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if err := checkKeywords(raw, "#"); err != nil {
		return nil, err
	}
	var s Schema
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if err := s.prepare("#"); err != nil {
		return nil, err
	}
	return &s, nil
}

// Load reads and parses a schema file.
func Load(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func checkKeywords(node any, path string) error {
	m, ok := node.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: a schema must be an object", path)
	}
	for k, v := range m {
		if !slices.Contains(known, k) {
			return fmt.Errorf("%s: keyword %q is not supported", path, k)
		}
		switch k {
		case "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("%s.properties must be an object", path)
			}
			for name, p := range props {
				if err := checkKeywords(p, path+".properties."+name); err != nil {
					return err
				}
			}
		case "items":
			if err := checkKeywords(v, path+".items"); err != nil {
				return err
			}
		case "additionalProperties":
			if _, isBool := v.(bool); !isBool {
				if err := checkKeywords(v, path+".additionalProperties"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Schema) prepare(path string) error {
	switch s.Type {
	case "", "object", "array", "string", "integer", "number", "boolean":
	default:
		return fmt.Errorf("%s: type %q is not supported", path, s.Type)
	}
	switch a := bytes.TrimSpace(s.AdditionalProperties); {
	case len(a) == 0, bytes.Equal(a, []byte("false")):
	case bytes.Equal(a, []byte("true")), bytes.Equal(a, []byte("{}")):
		s.allowAny = true
	default:
		s.additional = &Schema{}
		if err := json.Unmarshal(a, s.additional); err != nil {
			return fmt.Errorf("%s.additionalProperties: %w", path, err)
		}
		if err := s.additional.prepare(path + ".additionalProperties"); err != nil {
			return err
		}
	}
	for name, p := range s.Properties {
		if err := p.prepare(path + ".properties." + name); err != nil {
			return err
		}
	}
	if s.Items != nil {
		return s.Items.prepare(path + ".items")
	}
	return nil
}

// Validate checks a JSON document against s and returns every violation,
// each prefixed with its location ("$.catalog.sections[0].items[2].product.price").
func (s *Schema) Validate(doc []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return []string{"$: not JSON: " + err.Error()}
	}
	var errs []string
	s.validate(v, "$", &errs)
	return errs
}

func (s *Schema) validate(v any, path string, errs *[]string) {
	fail := func(format string, args ...any) { *errs = append(*errs, path+": "+fmt.Sprintf(format, args...)) }
	switch s.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			fail("want an object, got %s", kind(v))
			return
		}
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				fail("missing required property %q", r)
			}
		}
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			switch p, declared := s.Properties[k]; {
			case declared:
				p.validate(m[k], path+"."+k, errs)
			case s.additional != nil:
				s.additional.validate(m[k], path+"."+k, errs)
			case !s.allowAny:
				fail("property %q is not in the schema", k)
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			fail("want an array, got %s", kind(v))
			return
		}
		if s.Items != nil {
			for i, e := range a {
				s.Items.validate(e, path+"["+strconv.Itoa(i)+"]", errs)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			fail("want a string, got %s", kind(v))
			return
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			fail("%q is not one of %s", str, strings.Join(s.Enum, ", "))
		}
		if s.Format == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				fail("%q is not an RFC 3339 date-time", str)
			}
		}
	case "integer":
		s.integer(v, fail)
	case "number":
		if _, ok := v.(json.Number); !ok {
			fail("want a number, got %s", kind(v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("want a boolean, got %s", kind(v))
		}
	}
}

func (s *Schema) integer(v any, fail func(string, ...any)) {
	var digits string
	switch x := v.(type) {
	case json.Number:
		digits = x.String()
	case string:
		if s.Format != "int64" && s.Format != "uint64" {
			fail("want an integer number, got a string")
			return
		}
		digits = x
	default:
		fail("want an integer, got %s", kind(v))
		return
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		fail("%s is not a 64-bit integer", digits)
		return
	}
	if s.Format == "int32" && (n < math.MinInt32 || n > math.MaxInt32) {
		fail("%d is out of int32 range", n)
	}
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

//go:embed schemas/rpcStatus.schema.json
var rpcStatusSchema []byte

// RPCStatus is the schema of Stash's error answer (rpcStatus), the one copy
// every Stash endpoint's tests validate their error bodies against.
func RPCStatus() (*Schema, error) { return Parse(rpcStatusSchema) }
