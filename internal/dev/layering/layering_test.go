// Package layering holds the one test of the architecture's import rules
// (docs/architecture.md, "Layers"). shared/ holds three products — stash
// (Stash's game backend), payments (the payments API), storefront (store
// platform and checkout) — and platform, the floor they share. Every
// package under shared/ has a kind in the table below, and the rules are
// written around groups and kinds:
//
//   - no product imports another product; the platform imports no product;
//   - domain packages import no HTTP (server or Lambda) package, no
//     template and no handler code;
//   - wire-format packages import no domain and no HTTP;
//   - nothing under shared/ imports functions/, cmd/ or internal/;
//   - a function's handler imports shared code only, and one product at
//     most (but the few composition roots named below).
package layering

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/tollgate-dev/tollgate/"

type kind string

const (
	// domain: the rules of a product or of the floor, on DynamoDB; returns
	// typed errors; speaks no HTTP.
	domain kind = "domain"
	// wire: a wire format (decoding and shapes of an API's bodies).
	wire kind = "wire-format"
	// adapter: HTTP over a domain — handlers, pages, middleware, the
	// Lambda entry.
	adapter kind = "HTTP adapter"
	// client: an HTTP client of an outside service (a PSP, webhook
	// receivers): net/http allowed, no handler.
	client kind = "HTTP client"
	// leaf: the standard library (and the AWS SDK) only, no Tollgate package.
	leaf kind = "leaf"
)

// packages: every package under shared/ (relative to shared/) and its kind.
// A package missing here fails TestEveryPackageHasARule.
var packages = map[string]kind{
	// Stash's game backend.
	"stash/catalog":   domain,
	"stash/players":   domain,
	"stash/purchase":  domain,
	"stash/stashapi":  wire,
	"stash/stashhttp": adapter,
	// The payments API.
	"payments":              domain,
	"payments/paymentsapi":  wire,
	"payments/paymentshttp": adapter,
	// The store platform and checkout.
	"storefront/stores":      domain,
	"storefront/checkout":    domain,
	"storefront/tax":         domain,
	"storefront/geo":         domain,
	"storefront/ratelimit":   domain,
	"storefront/storeapi":    adapter,
	"storefront/checkoutweb": adapter,
	"storefront/portal":      domain,
	"storefront/portalweb":   adapter,
	// The platform: the floor the products share.
	"platform/dynamo":       domain,
	"platform/ddbcalls":     leaf,
	"platform/retry":        leaf,
	"platform/secrets":      domain,
	"platform/deps":         domain,
	"platform/decode":       wire,
	"platform/validate":     leaf,
	"platform/money":        leaf,
	"platform/failure":      leaf,
	"platform/refusal":      leaf,
	"platform/apikey":       leaf,
	"platform/openapi":      leaf,
	"platform/signing":      domain,
	"platform/outbox":       domain,
	"platform/delivery":     client,
	"platform/mail":         leaf,
	"platform/psp":          leaf,
	"platform/psp/sandbox":  domain,
	"platform/psp/stripe":   client,
	"platform/psp/adapters": domain,
	"platform/httpx":        adapter,
	"platform/webpage":      adapter,
	"platform/auth":         adapter,
	"platform/lambdarun":    adapter,
	"platform/metrics":      leaf,
}

var products = []string{"stash", "payments", "storefront"}

// compositionRoots: handlers that wire several products together, and why.
var compositionRoots = map[string]string{
	"functions/platform/dispatch/handler":      "the one dispatcher delivers the events of the payments API and of the store platform",
	"functions/platform/stripewebhook/handler": "Stripe sends every event of the account to one endpoint: the payments API's and the checkout's",
}

// httpServer: what an HTTP adapter may import and nothing else may.
var httpServer = []string{"github.com/aws/aws-lambda-go", "github.com/awslabs/aws-lambda-go-api-proxy", "html/template", "text/template"}

// group is the first element of a package path under shared/.
func group(rel string) string { g, _, _ := strings.Cut(rel, "/"); return g }

// owner is the package of packages that import path p names ("" when p is
// not under shared/).
func owner(p string) (string, bool) {
	rel, ok := strings.CutPrefix(p, module+"shared/")
	if !ok {
		return "", false
	}
	return rel, true
}

func isProduct(g string) bool {
	for _, p := range products {
		if p == g {
			return true
		}
	}
	return false
}

func hasPrefix(p string, prefixes []string) bool {
	for _, x := range prefixes {
		if p == x || strings.HasPrefix(p, x+"/") {
			return true
		}
	}
	return false
}

// violation says why package rel (of kind k) must not import p, or "".
func violation(rel string, k kind, p string) string {
	if hasPrefix(p, []string{module + "functions", module + "cmd", module + "internal"}) {
		return "shared code imports no function, tool or test helper"
	}
	imported, ours := owner(p)
	if ours {
		ik, known := packages[imported]
		switch {
		case !known:
			return "it imports a package with no rule"
		case group(imported) != group(rel) && isProduct(group(imported)) && isProduct(group(rel)):
			return "a product never imports another product"
		case group(rel) == "platform" && isProduct(group(imported)):
			return "the platform imports no product"
		case k == leaf:
			return "a leaf imports no Tollgate package"
		case (k == domain || k == client) && ik == adapter:
			return "the domain speaks no HTTP: it imports no handler, page or middleware"
		case k == wire && (ik == domain || ik == adapter || ik == client):
			return "a wire format imports no domain and no HTTP"
		}
		return ""
	}
	switch k {
	case domain, wire, leaf:
		if hasPrefix(p, append([]string{"net/http"}, httpServer...)) {
			return "only HTTP adapters and clients import net/http, templates or the Lambda runtime"
		}
	case client:
		if hasPrefix(p, httpServer) {
			return "an HTTP client serves nothing: no templates, no Lambda runtime"
		}
	}
	return ""
}

func TestImportRules(t *testing.T) {
	for rel, k := range packages {
		eachImport(t, filepath.Join("shared", rel), func(file, p string) {
			if why := violation(rel, k, p); why != "" {
				t.Errorf("%s (%s, %s) imports %s: %s", file, group(rel), k, p, why)
			}
		})
	}
}

// TestEveryPackageHasARule: a package added under shared/ gets a kind
// before it gets code.
func TestEveryPackageHasARule(t *testing.T) {
	found, err := SharedPackages(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for rel := range found {
		if _, ok := packages[rel]; !ok {
			missing = append(missing, rel)
		}
		if g := group(rel); g != "platform" && !isProduct(g) {
			t.Errorf("shared/%s is in no group: shared/ holds %v and platform", rel, products)
		}
	}
	for rel := range packages {
		if !found[rel] {
			t.Errorf("the rules name shared/%s, which holds no Go package", rel)
		}
	}
	sort.Strings(missing)
	for _, rel := range missing {
		t.Errorf("shared/%s has no kind in layering's packages table", rel)
	}
}

// TestHandlersImportSharedOnly: a function's handler imports shared code,
// never another function (what two functions share lives under shared/),
// and speaks for one product (or the platform) unless it is a composition
// root.
func TestHandlersImportSharedOnly(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "..", "functions", "*", "*", "handler"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no handlers (%v)", err)
	}
	for _, dir := range dirs {
		rel := filepath.ToSlash(strings.TrimPrefix(dir, filepath.Join("..", "..", "..")+string(os.PathSeparator)))
		seen := map[string]bool{}
		eachImport(t, rel, func(file, p string) {
			if strings.HasPrefix(p, module+"functions") {
				t.Errorf("%s imports %s: a function's handler imports only shared code", file, p)
			}
			if imported, ok := owner(p); ok && isProduct(group(imported)) {
				seen[group(imported)] = true
			}
		})
		if _, root := compositionRoots[rel]; len(seen) > 1 && !root {
			t.Errorf("%s imports %d products (%v): a function belongs to one product", rel, len(seen), keys(seen))
		}
		// functions/<product>/<name>/handler speaks for <product>.
		if g := strings.Split(rel, "/")[1]; isProduct(g) {
			for p := range seen {
				if p != g {
					t.Errorf("%s is a function of %s but imports shared/%s", rel, g, p)
				}
			}
		} else if g != "platform" {
			t.Errorf("%s: functions/ holds %v and platform", rel, products)
		}
	}
	for rel := range compositionRoots {
		if _, err := os.Stat(filepath.Join("..", "..", "..", rel)); err != nil {
			t.Errorf("composition root %s: %v", rel, err)
		}
	}
}

func TestViolationTable(t *testing.T) {
	for _, tt := range []struct {
		rel  string
		k    kind
		p    string
		want bool
	}{
		{"stash/purchase", domain, module + "shared/storefront/stores", true},
		{"stash/purchase", domain, module + "shared/platform/dynamo", false},
		{"platform/outbox", domain, module + "shared/payments", true},
		{"storefront/checkout", domain, "net/http", true},
		{"storefront/checkout", domain, module + "shared/platform/httpx", true},
		{"storefront/checkoutweb", adapter, "html/template", false},
		{"platform/delivery", client, "net/http", false},
		{"platform/delivery", client, "github.com/aws/aws-lambda-go/events", true},
		{"stash/stashapi", wire, module + "shared/stash/catalog", true},
		{"platform/validate", leaf, module + "shared/platform/refusal", true},
		{"payments/paymentshttp", adapter, module + "functions/payments/refund/handler", true},
		{"payments/paymentshttp", adapter, module + "shared/payments", false},
	} {
		if got := violation(tt.rel, tt.k, tt.p) != ""; got != tt.want {
			t.Errorf("%s (%s) importing %s: violation %v, want %v", tt.rel, tt.k, tt.p, got, tt.want)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// eachImport calls f with every import path of the non-test Go files of
// dir (relative to the module's root) and the file's path.
func eachImport(t *testing.T, dir string, f func(file, path string)) {
	t.Helper()
	root := filepath.Join("..", "..", "..")
	files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no Go files (%v)", dir, err)
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
