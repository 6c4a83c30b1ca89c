package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/shared/platform/openapi"
)

const root = "../../.."

// The document's own rules, beyond what OpenAPI 3.1 requires (Load checks
// that, examples included): what a client generator and a reader need.
func TestDocumentLint(t *testing.T) {
	c := MustLoad(t)
	tags := map[string]bool{}
	for _, tag := range c.Doc.Tags {
		tags[tag.Name] = true
	}
	ids := map[string]string{}
	for path, item := range c.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			at := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", at)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %s is also %s's", at, op.OperationID, other)
			}
			ids[op.OperationID] = at
			if op.Summary == "" {
				t.Errorf("%s: no summary", at)
			}
			if len(op.Tags) == 0 {
				t.Errorf("%s: no tag", at)
			}
			for _, tag := range op.Tags {
				if !tags[tag] {
					t.Errorf("%s: tag %q is not declared", at, tag)
				}
			}
			if op.Security == nil {
				t.Errorf("%s: security not stated (say security: [] for a public route)", at)
			}
			if op.RequestBody != nil {
				for ct, mt := range op.RequestBody.Value.Content {
					if mt.Example == nil && len(mt.Examples) == 0 {
						t.Errorf("%s: request body %s has no example", at, ct)
					}
				}
			}
			lintResponses(t, at, op)
		}
	}
}

// lintResponses: a success answer (a page's post/redirect/get 303
// counts), every answer with a schema, JSON successes with an example, and
// every error in one of the API's error shapes (an HTML page for the
// checkout's pages), one shape per operation.
func lintResponses(t *testing.T, at string, op *openapi3.Operation) {
	t.Helper()
	errorShapes := map[string]bool{}
	success := false
	for code, ref := range op.Responses.Map() {
		if code == "default" {
			t.Errorf("%s: a default response hides which statuses exist; list them", at)
			continue
		}
		success = success || strings.HasPrefix(code, "2") || code == "303"
		for ct, mt := range ref.Value.Content {
			if mt.Schema == nil {
				t.Errorf("%s %s %s: no schema", at, code, ct)
				continue
			}
			if strings.HasPrefix(code, "2") && ct == "application/json" && mt.Example == nil && len(mt.Examples) == 0 {
				t.Errorf("%s %s: no example", at, code)
			}
			if code >= "400" && ct == "text/html" && mt.Schema.Ref == "#/components/schemas/HTMLPage" {
				errorShapes[mt.Schema.Ref] = true
			} else if code >= "400" {
				switch mt.Schema.Ref {
				case "#/components/schemas/Error", "#/components/schemas/rpcStatus", "#/components/schemas/PaymentsError", "#/components/schemas/StoreError":
					errorShapes[mt.Schema.Ref] = true
				default:
					t.Errorf("%s %s: error schema %q is not one of the API error shapes", at, code, mt.Schema.Ref)
				}
			}
		}
	}
	if !success {
		t.Errorf("%s: no 2xx response", at)
	}
	if len(errorShapes) > 1 {
		t.Errorf("%s: errors in %d shapes, want the API's one", at, len(errorShapes))
	}
}

// Every component is used: a part no operation reaches is a part no test
// exercises.
func TestEveryComponentIsReferenced(t *testing.T) {
	var doc any
	js, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs[s] = true
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	components := doc.(map[string]any)["components"].(map[string]any)
	for kind, entries := range components {
		for name := range entries.(map[string]any) {
			if kind == "securitySchemes" {
				continue // referenced by name below
			}
			if !refs["#/components/"+kind+"/"+name] {
				t.Errorf("components.%s.%s is never referenced", kind, name)
			}
		}
	}
	c := MustLoad(t)
	used := map[string]bool{}
	for _, item := range c.Doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Security != nil {
				for _, req := range *op.Security {
					for name := range req {
						used[name] = true
					}
				}
			}
		}
	}
	for name := range c.Doc.Components.SecuritySchemes {
		if !used[name] {
			t.Errorf("security scheme %s is used by no operation", name)
		}
	}
}

// The document and template.yaml name the same routes: a route deployed
// without a contract, or a contract for a route that does not exist, fails.
// The document gives paths as clients call them: "/market/" for the route
// /market/{slash+}.
func TestRoutesMatchTemplate(t *testing.T) {
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	deployed := map[string]string{}
	for id, fn := range tmpl.Functions {
		for _, r := range fn.Routes {
			deployed[r.Method+" "+r.ClientPath()] = id
		}
	}
	documented := map[string]bool{}
	for path, item := range MustLoad(t).Doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for route, id := range deployed {
		if !documented[route] {
			t.Errorf("%s (%s) is in template.yaml but not in shared/platform/openapi/openapi.yaml", route, id)
		}
	}
	for route := range documented {
		if _, ok := deployed[route]; !ok {
			t.Errorf("%s is in shared/platform/openapi/openapi.yaml but no function of template.yaml serves it", route)
		}
	}
	if len(deployed) == 0 {
		t.Fatal("template.yaml has no routes")
	}
}

// The Stash schemas (x-stash-definition) have the field names, types,
// formats and enums of Stash's own OpenAPI. Tollgate may add constraints
// (required, bounds, patterns) and accept an int64 as a string as well,
// as gRPC-gateway writes it, but never rename, drop or retype a field.
func TestStashSchemasAreFaithful(t *testing.T) {
	path := filepath.Join(root, "..", "shared", "reference", "stash-public-api", "swagger.v1.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && os.Getenv("CI") == "" {
		t.Skipf("%s is not beside the repository", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var swagger struct {
		Definitions map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(data, &swagger); err != nil {
		t.Fatal(err)
	}
	js, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for name, s := range doc.Components.Schemas {
		def, ok := s["x-stash-definition"].(string)
		if !ok {
			continue
		}
		checked++
		theirs, ok := swagger.Definitions[def]
		if !ok {
			t.Errorf("%s: Stash has no definition %s", name, def)
			continue
		}
		if got, want := shape(s), shape(theirs); !reflect.DeepEqual(got, want) {
			g, _ := json.MarshalIndent(got, "", " ")
			w, _ := json.MarshalIndent(want, "", " ")
			t.Errorf("%s differs from Stash's %s:\n%s", name, def, firstDifference(string(g), string(w)))
		}
	}
	if checked < 10 {
		t.Errorf("%d schemas name a Stash definition, want the 10 of Stash's calls", checked)
	}
}

// shape is what a client relies on in a schema: types (an int64 widened to
// accept a string counts as the integer), formats, enums, properties, items.
func shape(v any) any {
	s, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	typ := s["type"]
	if list, ok := typ.([]any); ok && s["format"] == "int64" && slices.Contains(list, any("integer")) && slices.Contains(list, any("string")) {
		typ = "integer"
	}
	if typ != nil {
		out["type"] = typ
	}
	for _, k := range []string{"format", "enum", "$ref"} {
		if x, ok := s[k]; ok {
			out[k] = x
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		p := map[string]any{}
		for name, x := range props {
			p[name] = shape(x)
		}
		out["properties"] = p
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if x, ok := s[k]; ok {
			out[k] = shape(x)
		}
	}
	return out
}

func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			lo := max(0, i-3)
			return fmt.Sprintf("ours:\n%s\nStash's:\n%s", strings.Join(g[lo:min(len(g), i+3)], "\n"), strings.Join(w[lo:min(len(w), i+3)], "\n"))
		}
	}
	return fmt.Sprintf("ours has %d lines, Stash's %d", len(g), len(w))
}

// The JSON rendering served at /openapi.json is the YAML document.
func TestJSONIsTheYAMLDocument(t *testing.T) {
	js, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := openapi3.NewLoader().LoadFromData(js)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromJSON)
	b, _ := json.Marshal(MustLoad(t).Doc)
	if string(a) != string(b) {
		t.Fatal("the JSON rendering loads as a different document than the YAML")
	}
	if !strings.HasPrefix(string(js), `{"openapi":"3.1.0"`) {
		t.Errorf("JSON starts %.40s, want the YAML's key order", js)
	}
}
