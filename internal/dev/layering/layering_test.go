// Package layering holds the one test of the architecture's import rules:
// which packages may import what (see README, "Which package owns what").
package layering

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/tollgate-dev/tollgate/"

var (
	httpPackages   = []string{"net/http", module + "shared/httpx", module + "shared/stashhttp", module + "shared/lambdarun", "github.com/aws/aws-lambda-go", "github.com/awslabs/aws-lambda-go-api-proxy"}
	domainPackages = []string{module + "shared/catalog", module + "shared/players", module + "shared/purchase"}
	tooling        = []string{module + "internal/", module + "cmd/", module + "functions"}
	// handlerPackages are httpPackages but net/http: a PSP adapter is an
	// HTTP client of its PSP, never a handler.
	handlerPackages = []string{module + "shared/httpx", module + "shared/stashhttp", module + "shared/lambdarun", "github.com/aws/aws-lambda-go", "github.com/awslabs/aws-lambda-go-api-proxy"}
)

// rules: the runtime packages under shared/ and what each must not import
// (a path forbids itself and everything below it).
var rules = []struct {
	dir    string
	forbid [][]string
	why    string
}{
	{"shared/validate", [][]string{{module}, httpPackages}, "input rules use the standard library only"},
	{"shared/decode", [][]string{httpPackages, domainPackages, tooling}, "decoding is not HTTP: domain code may use it"},
	{"shared/failure", [][]string{{module}, httpPackages}, "whose a failure is: standard library only"},
	{"shared/refusal", [][]string{{module}, httpPackages}, "how the domain says no: standard library only"},
	{"shared/stashapi", [][]string{httpPackages, domainPackages, tooling}, "the wire format imports no HTTP and no domain package"},
	{"shared/catalog", [][]string{httpPackages, {module + "shared/auth", module + "shared/stashapi", module + "shared/purchase"}, tooling}, "the domain speaks no HTTP"},
	{"shared/players", [][]string{httpPackages, {module + "shared/auth", module + "shared/stashapi", module + "shared/catalog", module + "shared/purchase"}, tooling}, "the domain speaks no HTTP"},
	{"shared/purchase", [][]string{httpPackages, {module + "shared/auth"}, tooling}, "the domain speaks no HTTP"},
	{"shared/store", [][]string{httpPackages, domainPackages, tooling}, "the store knows no domain"},
	{"shared/retry", [][]string{{module}, httpPackages}, "the retry loop: standard library only"},
	{"shared/deps", [][]string{httpPackages, domainPackages, tooling}, "dependencies are built below the domain"},
	{"shared/openapi", [][]string{{module}, httpPackages}, "the contract is a document: it imports no Tollgate package"},
	{"shared/apikey", [][]string{{module}, httpPackages}, "making and recognising keys: standard library only"},
	{"shared/outbox", [][]string{httpPackages, domainPackages, tooling}, "the outbox knows no domain and no HTTP"},
	{"shared/paymentsapi", [][]string{httpPackages, domainPackages, tooling, {module + "shared/payments"}}, "the payments wire format imports no HTTP and no domain package"},
	{"shared/payments", [][]string{httpPackages, {module + "shared/paymentshttp", module + "shared/paymentsapi"}, tooling}, "the payments domain speaks no HTTP"},
	{"shared/psp", [][]string{{module}, httpPackages}, "the PSP interface: standard library only"},
	{"shared/psp/sandbox", [][]string{httpPackages, domainPackages, tooling}, "the sandbox PSP knows no domain and no HTTP"},
	{"shared/psp/stripe", [][]string{handlerPackages, domainPackages, tooling}, "the Stripe adapter is an HTTP client (net/http, stripe-go), no handler and no domain"},
	{"shared/psp/adapters", [][]string{handlerPackages, domainPackages, tooling}, "building the adapters knows no handler and no domain"},
	{"shared/ratelimit", [][]string{httpPackages, domainPackages, tooling}, "the rate counters know no domain and no HTTP"},
	{"shared/stores", [][]string{httpPackages, domainPackages, {module + "shared/auth", module + "shared/stashapi"}, tooling}, "the domain speaks no HTTP"},
	{"shared/geo", [][]string{httpPackages, domainPackages, tooling}, "embedded ISO data: no HTTP"},
	{"shared/tax", [][]string{httpPackages, domainPackages, tooling}, "embedded tax data: no HTTP"},
	{"shared/delivery", [][]string{handlerPackages, domainPackages, tooling}, "the dispatcher is an HTTP client of webhook receivers, no handler and no Stash domain"},
	{"shared/storeapi", [][]string{domainPackages, {module + "shared/purchase"}, tooling}, "the store API's HTTP layer: no Stash domain"},
	{"shared/checkoutweb", [][]string{domainPackages, {module + "shared/stashapi", module + "shared/store"}, tooling}, "the checkout's pages: HTTP over shared/checkout, no Stash domain, no table layout"},
}

func TestImportRules(t *testing.T) {
	for _, r := range rules {
		eachImport(t, filepath.Join(r.dir, "*.go"), func(file, path string) {
			if forbidden(path, r.dir, r.forbid) {
				t.Errorf("%s imports %s: %s", file, path, r.why)
			}
		})
	}
}

// TestHandlersImportSharedOnly: a function's handler imports shared code,
// never another function (what two functions share lives under shared/).
func TestHandlersImportSharedOnly(t *testing.T) {
	eachImport(t, filepath.Join("functions", "*", "handler", "*.go"), func(file, path string) {
		if strings.HasPrefix(path, module+"functions") {
			t.Errorf("%s imports %s: a function's handler imports only shared code", file, path)
		}
	})
}

// eachImport calls f with every import path of the non-test Go files
// matching pattern (relative to the module's root) and the file's path.
func eachImport(t *testing.T, pattern string, f func(file, path string)) {
	t.Helper()
	root := filepath.Join("..", "..", "..")
	files, err := filepath.Glob(filepath.Join(root, pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no Go files (%v)", filepath.Dir(pattern), err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			f(strings.TrimPrefix(name, root+string(os.PathSeparator)), path)
		}
	}
}

func forbidden(path, dir string, lists [][]string) bool {
	if strings.HasPrefix(path, module+dir) { // its own subpackages
		return false
	}
	for _, list := range lists {
		for _, p := range list {
			if path == p || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") || (strings.HasSuffix(p, "/") && strings.HasPrefix(path, p)) {
				return true
			}
		}
	}
	return false
}
