package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

// Sample is a realistic catalog file for a game (gem packs, coins, bundles),
// a starting point for a studio's own file and the data of the local runs.
//
//go:embed sample/catalog.json
var Sample []byte

// File is a catalog file: every product on sale. Its JSON form is the file
// format of the package documentation; unmarshalling it validates it as
// ParseFile does.
type File struct {
	Products []Product
}

// Limits of the file format beyond the ones the package documentation gives
// with each field.
const (
	MaxIDLength          = validate.MaxIDLength // productId, guid (characters)
	MaxNameLength        = 256
	MaxDescriptionLength = 4096
	MaxImageURLLength    = 2048
	MaxMetadataEntries   = 50
	MaxMetadataKeyLength = 128
	MaxMetadataValue     = 1024
)

// Problem is one thing wrong with a catalog file.
type Problem struct {
	Path    string // where, e.g. "products[3].prices.usd"; "" for the whole file
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// ValidationError lists every problem found in a catalog file.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid catalog file: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid catalog file (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

type problems []Problem

func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}

// ParseFile decodes and validates a catalog file. A file with problems
// returns a *ValidationError listing all of them.
func ParseFile(data []byte) (File, error) {
	var ps problems
	f := parseFile(data, &ps)
	if err := ps.err(); err != nil {
		return File{}, err
	}
	return f, nil
}

// LoadFile reads and parses the catalog file at path.
func LoadFile(path string) (File, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator's catalog file (a flag or setting), not request input
	if err != nil {
		return File{}, fmt.Errorf("read catalog file: %w", err)
	}
	f, err := ParseFile(data)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// UnmarshalJSON decodes and validates a catalog file (see ParseFile).
func (f *File) UnmarshalJSON(data []byte) error {
	parsed, err := ParseFile(data)
	if err != nil {
		return err
	}
	*f = parsed
	return nil
}

// MarshalJSON encodes the file in the file format.
func (f File) MarshalJSON() ([]byte, error) {
	products := f.Products
	if products == nil {
		products = []Product{}
	}
	return json.Marshal(struct {
		Products []Product `json:"products"`
	}{products})
}

// fileProduct is a product in the file format.
type fileProduct struct {
	ProductID      string            `json:"productId"`
	GUID           string            `json:"guid,omitempty"`
	Name           string            `json:"name"`
	Description    string            `json:"description,omitempty"`
	ImageURL       string            `json:"imageUrl,omitempty"`
	Prices         map[string]int64  `json:"prices"`
	Stock          *int64            `json:"stock,omitempty"`
	PerPlayerLimit *int64            `json:"perPlayerLimit,omitempty"`
	Locked         bool              `json:"locked,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// rawProduct has one field per key of the file format; decoding into it with
// DisallowUnknownFields is the gate that no unknown key passes.
type rawProduct struct {
	ProductID      json.RawMessage `json:"productId"`
	GUID           json.RawMessage `json:"guid"`
	Name           json.RawMessage `json:"name"`
	Description    json.RawMessage `json:"description"`
	ImageURL       json.RawMessage `json:"imageUrl"`
	Prices         json.RawMessage `json:"prices"`
	Stock          json.RawMessage `json:"stock"`
	PerPlayerLimit json.RawMessage `json:"perPlayerLimit"`
	Locked         json.RawMessage `json:"locked"`
	Metadata       json.RawMessage `json:"metadata"`
}

// productKeys are the keys of the file format, in documentation order.
var productKeys = []string{"productId", "guid", "name", "description", "imageUrl", "prices", "stock", "perPlayerLimit", "locked", "metadata"}

// MarshalJSON encodes the product in the file format (the table-only fields
// are left out).
func (p Product) MarshalJSON() ([]byte, error) {
	return json.Marshal(fileProduct{
		ProductID: p.ProductID, GUID: p.GUID, Name: p.Name, Description: p.Description,
		ImageURL: p.ImageURL, Prices: p.Prices, Stock: p.Stock, PerPlayerLimit: p.PerPlayerLimit,
		Locked: p.Locked, Metadata: p.Metadata,
	})
}

// UnmarshalJSON decodes and validates one product in the file format; a
// product with problems returns a *ValidationError.
func (p *Product) UnmarshalJSON(data []byte) error {
	var ps problems
	parsed := parseProduct(data, "", &ps)
	if err := ps.err(); err != nil {
		return err
	}
	*p = parsed
	return nil
}

func parseFile(data []byte, ps *problems) File {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		ps.add("", "%s", jsonError(data, err))
		return File{}
	}
	if top == nil {
		ps.add("", `must be a JSON object {"products": [...]}`)
		return File{}
	}
	for _, k := range sortedKeys(top) {
		if k != "products" {
			ps.add(joinPath("", k), "unknown field%s", suggest(k, []string{"products"}))
		}
	}
	var gate struct {
		Products json.RawMessage `json:"products"`
	}
	if err := strictDecode(data, &gate); err != nil && len(*ps) == 0 {
		ps.add("", "%v", err)
	}
	raw, ok := top["products"]
	if !ok || decode.Null(raw) {
		ps.add("products", "is required")
		return File{}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		ps.add("products", "must be an array of products, got %s", kindOf(raw))
		return File{}
	}
	if len(items) == 0 {
		ps.add("products", "must list at least one product (an empty file would deactivate every product)")
		return File{}
	}
	f := File{Products: make([]Product, 0, len(items))}
	firstID := map[string]int{}
	firstGUID := map[string]int{}
	for i, item := range items {
		at := fmt.Sprintf("products[%d]", i)
		p := parseProduct(item, at, ps)
		if p.ProductID != "" {
			if j, dup := firstID[p.ProductID]; dup {
				ps.add(at+".productId", "duplicate productId %q (also products[%d])", p.ProductID, j)
			} else {
				firstID[p.ProductID] = i
			}
		}
		if p.GUID != "" {
			if j, dup := firstGUID[p.GUID]; dup {
				ps.add(at+".guid", "duplicate guid %q (also products[%d])", p.GUID, j)
			} else {
				firstGUID[p.GUID] = i
			}
		}
		f.Products = append(f.Products, p)
	}
	return f
}

func parseProduct(data []byte, at string, ps *problems) Product {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		ps.add(at, "must be an object, got %s", kindOf(data))
		return Product{}
	}
	unknown := 0
	for _, k := range sortedKeys(obj) {
		if !slices.Contains(productKeys, k) {
			ps.add(joinPath(at, k), "unknown field%s", suggest(k, productKeys))
			unknown++
		}
	}
	// encoding/json matches keys case-insensitively, so the gate can let a
	// miscased key through; the exact key check above catches those.
	if err := strictDecode(data, &rawProduct{}); err != nil && unknown == 0 {
		ps.add(at, "%v", err)
	}

	var p Product
	v := fieldReader{obj: obj, at: at, ps: ps}
	p.ProductID = v.id("productId", true)
	p.GUID = v.id("guid", false)
	p.Name = v.text("name", true, MaxNameLength)
	p.Description = v.text("description", false, MaxDescriptionLength)
	p.ImageURL = v.imageURL("imageUrl")
	p.Prices = v.prices("prices")
	p.Stock = v.integer("stock", 0)
	p.PerPlayerLimit = v.integer("perPlayerLimit", 1)
	p.Locked = v.boolean("locked")
	p.Metadata = v.metadata("metadata")
	return p
}

type fieldReader struct {
	obj map[string]json.RawMessage
	at  string
	ps  *problems
}

func (v fieldReader) path(key string) string { return joinPath(v.at, key) }

// raw returns the field's value, or false when it is absent or null.
func (v fieldReader) raw(key string) (json.RawMessage, bool) {
	r, ok := v.obj[key]
	if !ok || decode.Null(r) {
		return nil, false
	}
	return r, true
}

func (v fieldReader) str(key string, required bool) (string, bool) {
	r, ok := v.raw(key)
	if !ok {
		if required {
			v.ps.add(v.path(key), "is required")
		}
		return "", false
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		v.ps.add(v.path(key), "must be a string, got %s", kindOf(r))
		return "", false
	}
	return s, true
}

func (v fieldReader) id(key string, required bool) string {
	s, ok := v.str(key, required)
	if !ok {
		return ""
	}
	if msg := checkID(s); msg != "" {
		v.ps.add(v.path(key), "%s", msg)
		return ""
	}
	return s
}

// checkID applies validate.ID, worded as the file's other limits are.
func checkID(s string) string {
	switch err := validate.ID(s); {
	case err == nil:
		return ""
	case errors.Is(err, validate.ErrTooLong):
		return fmt.Sprintf("must be at most %d characters", MaxIDLength)
	case errors.Is(err, validate.ErrNotUTF8):
		return "must be valid UTF-8"
	default:
		return err.Error()
	}
}

func (v fieldReader) text(key string, required bool, maxLen int) string {
	s, ok := v.str(key, required)
	if !ok {
		return ""
	}
	switch {
	case required && strings.TrimSpace(s) == "":
		v.ps.add(v.path(key), "must not be empty")
	case utf8.RuneCountInString(s) > maxLen:
		v.ps.add(v.path(key), "must be at most %d characters", maxLen)
	default:
		return s
	}
	return ""
}

func (v fieldReader) imageURL(key string) string {
	s, ok := v.str(key, false)
	if !ok || s == "" {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case len(s) > MaxImageURLLength:
		v.ps.add(v.path(key), "must be at most %d characters", MaxImageURLLength)
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		v.ps.add(v.path(key), "must be an absolute https:// or http:// URL, got %q", s)
	default:
		return s
	}
	return ""
}

func (v fieldReader) prices(key string) map[string]int64 {
	r, ok := v.raw(key)
	if !ok {
		v.ps.add(v.path(key), "is required")
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r, &m); err != nil {
		v.ps.add(v.path(key), `must be an object of currency → amount, e.g. {"USD": 199}, got %s`, kindOf(r))
		return nil
	}
	if len(m) == 0 {
		v.ps.add(v.path(key), "must list at least one currency")
		return nil
	}
	prices := make(map[string]int64, len(m))
	for _, cur := range sortedKeys(m) {
		at := joinPath(v.path(key), cur)
		if validate.Currency(cur) != nil {
			v.ps.add(at, "currency must be 3 upper-case letters (ISO 4217), e.g. USD")
			continue
		}
		n, err := parseInt(m[cur])
		switch {
		case errors.Is(err, validate.ErrNotInteger):
			v.ps.add(at, "amount must be an integer in minor units (199 for 1.99), got %s", bytes.TrimSpace(m[cur]))
		case err != nil:
			v.ps.add(at, "amount %s", intProblem(m[cur], err))
		case n < 0:
			v.ps.add(at, "amount must be >= 0, got %d", n)
		default:
			prices[cur] = n
		}
	}
	return prices
}

func (v fieldReader) integer(key string, minimum int64) *int64 {
	r, ok := v.raw(key)
	if !ok {
		return nil
	}
	n, err := parseInt(r)
	switch {
	case err != nil:
		v.ps.add(v.path(key), "%s", intProblem(r, err))
	case n < minimum:
		v.ps.add(v.path(key), "must be >= %d, got %d", minimum, n)
	default:
		return &n
	}
	return nil
}

func (v fieldReader) boolean(key string) bool {
	r, ok := v.raw(key)
	if !ok {
		return false
	}
	var b bool
	if err := json.Unmarshal(r, &b); err != nil {
		v.ps.add(v.path(key), "must be true or false, got %s", kindOf(r))
	}
	return b
}

func (v fieldReader) metadata(key string) map[string]string {
	r, ok := v.raw(key)
	if !ok {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r, &m); err != nil {
		v.ps.add(v.path(key), "must be an object of string → string, got %s", kindOf(r))
		return nil
	}
	if len(m) > MaxMetadataEntries {
		v.ps.add(v.path(key), "must have at most %d entries, has %d", MaxMetadataEntries, len(m))
		return nil
	}
	if len(m) == 0 {
		return nil
	}
	md := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		at := joinPath(v.path(key), k)
		var s string
		switch {
		case k == "":
			v.ps.add(at, "key must not be empty")
		case utf8.RuneCountInString(k) > MaxMetadataKeyLength:
			v.ps.add(at, "key must be at most %d characters", MaxMetadataKeyLength)
		case json.Unmarshal(m[k], &s) != nil:
			v.ps.add(at, "must be a string, got %s", kindOf(m[k]))
		case utf8.RuneCountInString(s) > MaxMetadataValue:
			v.ps.add(at, "must be at most %d characters", MaxMetadataValue)
		default:
			md[k] = s
		}
	}
	return md
}

// parseInt reads a JSON integer with validate.WholeNumber: the file may
// write a whole number as 1e3 or 2.0 (spreadsheets and float encoders do).
func parseInt(r json.RawMessage) (int64, error) {
	return validate.WholeNumber(bytes.TrimSpace(r))
}

// intProblem words parseInt's refusal of r.
func intProblem(r json.RawMessage, err error) string {
	switch {
	case errors.Is(err, validate.ErrNotNumber):
		return "must be an integer, got " + kindOf(r)
	case errors.Is(err, validate.ErrOutOfRange):
		return "is out of range, got " + string(bytes.TrimSpace(r))
	}
	return "must be an integer, got " + string(bytes.TrimSpace(r))
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// kindOf names the JSON type of r for messages.
func kindOf(r json.RawMessage) string {
	r = bytes.TrimSpace(r)
	if len(r) == 0 {
		return "nothing"
	}
	switch r[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number (" + string(r) + ")"
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// joinPath appends key to a location: a.b, or a["odd key"].
func joinPath(at, key string) string {
	if !plainKey.MatchString(key) {
		return at + "[" + strconv.Quote(key) + "]"
	}
	if at == "" {
		return key
	}
	return at + "." + key
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// suggest returns ` (did you mean "x"?)` when key is close to a known key.
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
		if d := editDistance(strings.ToLower(key), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return fmt.Sprintf(" (known fields: %s)", strings.Join(known, ", "))
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// jsonError describes a decoding error of the whole file, with the line and
// column of a syntax error.
func jsonError(data []byte, err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := lineCol(data, syn.Offset)
		return fmt.Sprintf("not valid JSON: line %d, column %d: %v", line, col, syn)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf(`must be a JSON object {"products": [...]}, got %s`, typ.Value)
	}
	return "not valid JSON: " + err.Error()
}

func lineCol(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}
