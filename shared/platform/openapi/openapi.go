// Package openapi holds Tollgate's API contract, openapi.yaml (OpenAPI 3.1):
// every route of template.yaml, its security, bodies and error shapes. The
// OpenAPI function serves it; the tests hold every handler to it.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml
var document []byte

// YAML returns the document as written.
func YAML() []byte { return document }

var jsonOnce = sync.OnceValues(func() ([]byte, error) { return ToJSON(document) })

// JSON returns the document as JSON, keys in the YAML's order.
func JSON() ([]byte, error) { return jsonOnce() }

// ToJSON converts a YAML document to JSON, keeping the order of mapping keys
// (a map would sort them, and a reader expects paths in the written order).
func ToJSON(doc []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("openapi: parse YAML: %w", err)
	}
	var out bytes.Buffer
	if err := writeNode(&out, &root); err != nil {
		return nil, fmt.Errorf("openapi: convert to JSON: %w", err)
	}
	return out.Bytes(), nil
}

func writeNode(out *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("line %d: a document holds %d nodes, want 1", n.Line, len(n.Content))
		}
		return writeNode(out, n.Content[0])
	case yaml.AliasNode:
		return writeNode(out, n.Alias)
	case yaml.MappingNode:
		out.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				out.WriteByte(',')
			}
			key, err := json.Marshal(n.Content[i].Value)
			if err != nil {
				return err
			}
			out.Write(key)
			out.WriteByte(':')
			if err := writeNode(out, n.Content[i+1]); err != nil {
				return err
			}
		}
		out.WriteByte('}')
		return nil
	case yaml.SequenceNode:
		out.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := writeNode(out, c); err != nil {
				return err
			}
		}
		out.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		return writeScalar(out, n)
	}
	return fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

func writeScalar(out *bytes.Buffer, n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!null":
		out.WriteString("null")
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return err
		}
		out.WriteString(strconv.FormatBool(b))
		return nil
	case "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		out.Write(b)
		return nil
	}
	b, err := json.Marshal(n.Value)
	if err != nil {
		return err
	}
	out.Write(b)
	return nil
}
