package catalog_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

func TestParseSample(t *testing.T) {
	f, err := catalog.ParseFile(catalog.Sample)
	if err != nil {
		t.Fatalf("sample: %v", err)
	}
	if n := len(f.Products); n < 8 || n > 12 {
		t.Fatalf("sample has %d products, want 8-12", n)
	}
	byID := map[string]catalog.Product{}
	guids := 0
	for _, p := range f.Products {
		byID[p.ProductID] = p
		if p.GUID != "" {
			guids++
		}
	}
	if guids == 0 || guids == len(f.Products) {
		t.Errorf("sample: %d of %d products have a guid, want some but not all", guids, len(f.Products))
	}
	checks := []struct {
		name string
		ok   func() bool
	}{
		{"JPY gem pack", func() bool {
			return byID["gem_pack_small"].Prices["JPY"] == 300 && byID["gem_pack_small"].Prices["USD"] == 199
		}},
		{"limited bundle of 10", func() bool { s := byID["founders_bundle"].Stock; return s != nil && *s == 10 }},
		{"starter pack once per player", func() bool { l := byID["starter_pack"].PerPlayerLimit; return l != nil && *l == 1 }},
		{"locked seasonal item", func() bool { return byID["winter_festival_skin"].Locked }},
		{"unlimited coins", func() bool { return byID["coins_1000"].Unlimited() && !byID["coins_1000"].Locked }},
		{"metadata", func() bool { return byID["gem_pack_medium"].Metadata["amount"] == "550" }},
		{"no table state", func() bool { p := byID["founders_bundle"]; return !p.Active && p.Version == 0 && p.Available == 0 }},
	}
	for _, c := range checks {
		if !c.ok() {
			t.Errorf("sample: %s: not as expected", c.name)
		}
	}
}

// product returns a valid product object with fields replaced (a nil value
// deletes the field).
func product(id string, fields map[string]any) map[string]any {
	p := map[string]any{"productId": id, "name": "Name of " + id, "prices": map[string]any{"USD": 100}}
	for k, v := range fields {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	return p
}

func fileJSON(t *testing.T, products ...any) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"products": products})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestParseFileProblems(t *testing.T) {
	long := strings.Repeat("x", 129)
	cases := []struct {
		name string
		file string
		want []string // every problem, in order; nil: valid
	}{
		{"minimal product", fileJSON(t, product("a", nil)), nil},
		{"all fields", fileJSON(t, product("a", map[string]any{
			"guid": "g-1", "description": "d", "imageUrl": "https://cdn.example.com/a.png",
			"prices": map[string]any{"USD": 0, "JPY": 300}, "stock": 0, "perPlayerLimit": 1, "locked": true,
			"metadata": map[string]any{"k": "v"},
		})), nil},
		{"null optional fields", `{"products":[{"productId":"a","name":"A","prices":{"USD":1},"guid":null,"stock":null,"perPlayerLimit":null,"locked":null,"metadata":null,"imageUrl":null}]}`, nil},
		{"unicode id", fileJSON(t, product("épée_☃", nil)), nil},
		{"integral exponent", `{"products":[{"productId":"a","name":"A","prices":{"USD":1e2},"stock":1.0E1}]}`, nil},
		{"whole number beyond float64 precision", `{"products":[{"productId":"a","name":"A","prices":{"USD":1},"stock":9007199254740993.0}]}`, nil},
		{"vanishing exponent is no integer", `{"products":[{"productId":"a","name":"A","prices":{"USD":1},"stock":1e-400}]}`, []string{
			"products[0].stock: must be an integer, got 1e-400"}},
		{"huge exponent out of range", `{"products":[{"productId":"a","name":"A","prices":{"USD":1e400}}]}`, []string{
			"products[0].prices.USD: amount is out of range, got 1e400"}},
		{"price as a decimal string", `{"products":[{"productId":"a","name":"A","prices":{"USD":"1.99"}}]}`, []string{
			"products[0].prices.USD: amount must be an integer, got a string"}},

		{"not JSON", "{\n  \"products\": [\n    {\"productId\": \"a\",}\n  ]\n}", []string{
			"not valid JSON: line 3, column 23: invalid character '}' looking for beginning of object key string"}},
		{"trailing data", `{"products":[]} {}`, []string{
			"not valid JSON: line 1, column 17: invalid character '{' after top-level value"}},
		{"top level array", `[{"productId":"a"}]`, []string{`must be a JSON object {"products": [...]}, got array`}},
		{"top level null", `null`, []string{`must be a JSON object {"products": [...]}`}},
		{"no products", `{}`, []string{"products: is required"}},
		{"empty products", `{"products":[]}`, []string{
			"products: must list at least one product (an empty file would deactivate every product)"}},
		{"products not an array", `{"products":{"a":1}}`, []string{"products: must be an array of products, got an object"}},
		{"unknown top-level field", `{"products":[{"productId":"a","name":"A","prices":{"USD":1}}],"prodcts":[]}`, []string{
			`prodcts: unknown field (did you mean "products"?)`}},
		{"product not an object", fileJSON(t, "gem"), []string{`products[0]: must be an object, got a string`}},

		{"unknown fields with suggestions", fileJSON(t, product("a", map[string]any{"perPlayerLimt": 1, "colour": "red"})), []string{
			`products[0].colour: unknown field (known fields: productId, guid, name, description, imageUrl, prices, stock, perPlayerLimit, locked, metadata)`,
			`products[0].perPlayerLimt: unknown field (did you mean "perPlayerLimit"?)`}},
		{"miscased field", `{"products":[{"ProductId":"a","name":"A","prices":{"USD":1}}]}`, []string{
			`products[0].ProductId: unknown field (did you mean "productId"?)`,
			`products[0].productId: is required`}},

		{"required fields missing", fileJSON(t, map[string]any{}), []string{
			"products[0].productId: is required", "products[0].name: is required", "products[0].prices: is required"}},
		{"every kind of problem at once", fileJSON(t,
			product("ok", nil),
			map[string]any{
				"productId": long, "guid": "", "name": "  ", "description": 5, "imageUrl": "/relative.png",
				"prices": map[string]any{"usd": 199, "EUR": -1, "JPY": 1.5, "GBP": "199", "US$": 1},
				"stock":  -1, "perPlayerLimit": 0, "locked": "yes", "metadata": map[string]any{"level": 3, "": "x"},
			},
			product("tab\tid", map[string]any{"prices": map[string]any{}, "stock": "10", "imageUrl": "ftp://host/a.png", "metadata": []any{}}),
			product("c", map[string]any{"prices": []any{199}, "stock": 2.5, "perPlayerLimit": 1e30, "name": 7}),
		), []string{
			"products[1].productId: must be at most 128 characters",
			"products[1].guid: must not be empty",
			"products[1].name: must not be empty",
			"products[1].description: must be a string, got a number (5)",
			`products[1].imageUrl: must be an absolute https:// or http:// URL, got "/relative.png"`,
			"products[1].prices.EUR: amount must be >= 0, got -1",
			`products[1].prices.GBP: amount must be an integer, got a string`,
			"products[1].prices.JPY: amount must be an integer in minor units (199 for 1.99), got 1.5",
			`products[1].prices["US$"]: currency must be 3 upper-case letters (ISO 4217), e.g. USD`,
			"products[1].prices.usd: currency must be 3 upper-case letters (ISO 4217), e.g. USD",
			"products[1].stock: must be >= 0, got -1",
			"products[1].perPlayerLimit: must be >= 1, got 0",
			"products[1].locked: must be true or false, got a string",
			`products[1].metadata[""]: key must not be empty`,
			"products[1].metadata.level: must be a string, got a number (3)",
			"products[2].productId: holds a control or non-printable character",
			`products[2].imageUrl: must be an absolute https:// or http:// URL, got "ftp://host/a.png"`,
			"products[2].prices: must list at least one currency",
			"products[2].stock: must be an integer, got a string",
			"products[2].metadata: must be an object of string → string, got an array",
			"products[3].name: must be a string, got a number (7)",
			`products[3].prices: must be an object of currency → amount, e.g. {"USD": 199}, got an array`,
			"products[3].stock: must be an integer, got 2.5",
			"products[3].perPlayerLimit: is out of range, got 1e+30",
		}},
		{"duplicate productId and guid", fileJSON(t,
			product("a", map[string]any{"guid": "g1"}),
			product("b", map[string]any{"guid": "g2"}),
			product("a", map[string]any{"guid": "g3"}),
			product("c", map[string]any{"guid": "g1"}),
		), []string{
			`products[2].productId: duplicate productId "a" (also products[0])`,
			`products[3].guid: duplicate guid "g1" (also products[0])`,
		}},
		{"too long texts", fileJSON(t, product("a", map[string]any{
			"name": strings.Repeat("n", catalog.MaxNameLength+1), "description": strings.Repeat("d", catalog.MaxDescriptionLength+1),
		})), []string{
			"products[0].name: must be at most 256 characters",
			"products[0].description: must be at most 4096 characters",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := catalog.ParseFile([]byte(c.file))
			if c.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(f.Products) == 0 {
					t.Fatal("no products parsed")
				}
				return
			}
			var ve *catalog.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want a *ValidationError", err, err)
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
			if len(f.Products) != 0 {
				t.Fatalf("an invalid file returned products: %+v", f.Products)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error message %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	_, err := catalog.ParseFile([]byte(fileJSON(t, product("a", map[string]any{"stock": -1}))))
	if got, want := err.Error(), "invalid catalog file: products[0].stock: must be >= 0, got -1"; got != want {
		t.Fatalf("one problem: %q, want %q", got, want)
	}
	_, err = catalog.ParseFile([]byte(fileJSON(t, map[string]any{})))
	want := "invalid catalog file (3 problems):\n  products[0].productId: is required\n  products[0].name: is required\n  products[0].prices: is required"
	if err.Error() != want {
		t.Fatalf("several problems:\n%s\nwant:\n%s", err, want)
	}
}

// The file format round-trips through File's JSON encoding, and
// json.Unmarshal validates as ParseFile does.
func TestFileJSONRoundTrip(t *testing.T) {
	f, err := catalog.ParseFile(catalog.Sample)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var again catalog.File
	if err := json.Unmarshal(data, &again); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
	if !reflect.DeepEqual(f, again) {
		t.Fatalf("round trip changed the file:\n%+v\n%+v", f, again)
	}
	for _, key := range []string{"active", "available", "version", "Reserved", "updatedAt"} {
		if strings.Contains(string(data), `"`+key+`"`) {
			t.Errorf("file encoding holds the table-only field %q", key)
		}
	}
	var bad catalog.File
	err = json.Unmarshal([]byte(`{"products":[{"productId":"a","name":"A","prices":{"usd":1}}]}`), &bad)
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("json.Unmarshal of an invalid file: %v", err)
	}
	var p catalog.Product
	err = json.Unmarshal([]byte(`{"productId":"a","name":"A","prices":{"USD":1},"stok":3}`), &p)
	if err == nil || !strings.Contains(err.Error(), `stok: unknown field (did you mean "stock"?)`) {
		t.Fatalf("json.Unmarshal of an invalid product: %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(good, catalog.Sample, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"products":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path    string
		wantErr string
	}{
		{good, ""},
		{bad, bad + ": invalid catalog file: products: must list at least one product"},
		{filepath.Join(dir, "missing.json"), "read catalog file: open " + filepath.Join(dir, "missing.json")},
	}
	for _, c := range cases {
		f, err := catalog.LoadFile(c.path)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.path, err)
		case c.wantErr == "" && len(f.Products) == 0:
			t.Errorf("%s: no products", c.path)
		case c.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), c.wantErr)):
			t.Errorf("%s: err = %v, want prefix %q", c.path, err, c.wantErr)
		}
	}
}

func TestRemaining(t *testing.T) {
	ten := int64(10)
	cases := []struct {
		name        string
		p           catalog.Product
		want        int64
		wantLimited bool
	}{
		{"unlimited", catalog.Product{Available: -7}, 0, false},
		{"limited", catalog.Product{Stock: &ten, Available: 4}, 4, true},
		{"oversold after a stock cut", catalog.Product{Stock: &ten, Available: -2}, 0, true},
	}
	for _, c := range cases {
		n, limited := c.p.Remaining()
		if n != c.want || limited != c.wantLimited || c.p.Unlimited() == c.wantLimited {
			t.Errorf("%s: Remaining() = %d, %v; want %d, %v", c.name, n, limited, c.want, c.wantLimited)
		}
	}
}

func TestCatalogLookup(t *testing.T) {
	c := catalog.NewCatalog([]catalog.Product{
		{ProductID: "b", GUID: "g1", Active: true},
		{ProductID: "a", GUID: "g1", Active: false}, // removed product whose guid moved to b
		{ProductID: "c", GUID: "g2", Active: false},
		{ProductID: "d", GUID: "g2", Active: false},
		{ProductID: "e"},
	})
	cases := []struct {
		id, guid string
		want     string // "" = not found
	}{
		{"a", "", "a"},
		{"a", "g2", "a"}, // productId wins
		{"", "g1", "b"},  // the active one
		{"", "g2", "c"},  // both inactive: the smaller id
		{"", "", ""},
		{"zzz", "g1", ""},
		{"", "nope", ""},
	}
	for _, tc := range cases {
		p, ok := catalog.Lookup(c, tc.id, tc.guid)
		if ok != (tc.want != "") || p.ProductID != tc.want {
			t.Errorf("Lookup(%q, %q) = %q, %v; want %q", tc.id, tc.guid, p.ProductID, ok, tc.want)
		}
	}
	var ids []string
	for _, p := range c.Products() {
		ids = append(ids, p.ProductID)
	}
	if !reflect.DeepEqual(ids, []string{"a", "b", "c", "d", "e"}) {
		t.Fatalf("Products() = %v, want sorted ids", ids)
	}
	if c.LoadedAt().IsZero() || c.Len() != 5 {
		t.Fatalf("LoadedAt %v, Len %d", c.LoadedAt(), c.Len())
	}
}
