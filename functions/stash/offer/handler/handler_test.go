package handler_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	miniserver "github.com/truora/minidyn/server"

	"github.com/tollgate-dev/tollgate/internal/dev/contract"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const egressKey = "offer-egress-key"

const testCatalog = `{"products": [
  {"productId": "gems", "guid": "g-gems", "name": "Gems", "description": "100 gems", "imageUrl": "https://cdn.example.com/gems.png", "prices": {"USD": 199}},
  {"productId": "refill", "name": "Refill", "prices": {"USD": 49}},
  {"productId": "soldout", "name": "Sold out", "prices": {"USD": 5000}, "stock": 0},
  {"productId": "seasonal", "guid": "g-seasonal", "name": "Seasonal", "prices": {"USD": 499}, "locked": true},
  {"productId": "retired", "guid": "g-retired", "name": "Retired", "prices": {"USD": 1}}
]}`

// The second import removes "retired": it is deactivated.
var testCatalogV2 = strings.Replace(testCatalog, `,
  {"productId": "retired", "guid": "g-retired", "name": "Retired", "prices": {"USD": 1}}`, "", 1)

var updatedAt = regexp.MustCompile(`"lastUpdatedAt":"[^"]+"`)

var start = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

type env struct {
	t      *testing.T
	stack  *localenv.Stack
	tr     *ddbtest.Transport
	clock  atomic.Int64 // unix nanoseconds
	h      http.Handler
	signed int  // lookups signed so far
	beyond bool // the next lookups are outside the contract on purpose (contract.Beyond)
}

func newEnv(t *testing.T, b ddbtest.Backend, maxAttempts int) *env {
	t.Helper()
	e := &env{t: t}
	e.clock.Store(start.UnixNano())
	vars := map[string]string{"STASH_EGRESS_KEY": egressKey, "CATALOG_CACHE_TTL": "1h"}
	d := ddbtest.NewEnv(t, b, ddbtest.StackOptions{Env: vars, MaxAttempts: maxAttempts, Now: e.now, Catalog: []byte(testCatalog)})
	e.stack, e.tr = d.Stack, d.Transport
	if _, err := e.stack.ImportCatalog(context.Background(), []byte(testCatalogV2)); err != nil {
		t.Fatal(err)
	}
	e.h = d.Handler(t, "OfferFunction")
	return e
}

// get sends a request with the given signature header (v1 at the current
// time when header is "v1") through the route's pattern, and checks the
// answer against the contract (ddbtest.Checked).
func (e *env) now() time.Time { return time.Unix(0, e.clock.Load()).UTC() }

func (e *env) get(query, header, value string) (int, string) {
	e.t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/catalog/offer", e.h)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/catalog/offer?"+query, nil)
	if e.beyond {
		req = contract.Beyond(req)
	}
	if header == "v1" {
		// Each at its own millisecond: a lookup's v1 signature is refused
		// for another query (stashhttp.HandleQuery).
		e.signed++
		header, value = auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", e.now().Add(time.Duration(e.signed)*time.Millisecond), nil)
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	body := strings.TrimSpace(rec.Body.String())
	return rec.Code, body
}

func TestOffer(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, 0)
			gems := func(body string) bool {
				return strings.HasPrefix(body, `{"items":[{"guid":"g-gems","title":{"defaultText":"Gems"},"description":{"defaultText":"100 gems"},"image":"https://cdn.example.com/gems.png","lastUpdatedAt":"T"}]}`)
			}
			tests := []struct {
				name, query string
				status      int
				check       func(string) bool
			}{
				{"by productId", "productId=gems", 200, gems},
				{"by guid", "guid=g-gems", 200, gems},
				{"both, as Stash sends them", "guid=g-gems&productId=gems&platform=CATALOG_PLATFORM_WEBSTORE&region=US&language=en&playerId=alice&shopId=shop-1&environment=1", 200, gems},
				{"snake_case", "product_id=gems", 200, gems},
				{"a product without guid, with the guid Stash generated", "productId=refill&guid=5b2f3c4d-0000-5000-8000-000000000000", 200,
					func(b string) bool { return b == `{"items":[{"title":{"defaultText":"Refill"},"lastUpdatedAt":"T"}]}` }},
				{"locked products are listed", "productId=seasonal", 200, func(b string) bool { return strings.Contains(b, `"guid":"g-seasonal"`) }},
				{"sold-out products are listed", "productId=soldout", 200, func(b string) bool { return strings.Contains(b, `"Sold out"`) }},
				{"unknown productId", "productId=nope&guid=g-nope", 404,
					func(b string) bool { return b == `{"code":5,"message":"no offer with productId nope","details":[]}` }},
				{"unknown guid", "guid=g-nope", 404, func(b string) bool { return strings.HasPrefix(b, `{"code":5,"message":"no offer with guid g-nope"`) }},
				{"removed from the catalog", "productId=retired", 404, func(b string) bool { return strings.HasPrefix(b, `{"code":5,`) }},
				{"removed, by guid", "guid=g-retired", 404, func(b string) bool { return strings.HasPrefix(b, `{"code":5,`) }},
				{"guid of another product", "productId=gems&guid=g-seasonal", 404,
					func(b string) bool { return strings.Contains(b, `"guid g-seasonal is not the guid of product gems"`) }},
				{"a product without guid, with another product's guid", "productId=refill&guid=g-gems", 404,
					func(b string) bool { return strings.Contains(b, `"guid g-gems is not the guid of product refill"`) }},
				{"a product without guid, with a removed product's guid", "productId=refill&guid=g-retired", 404,
					func(b string) bool { return strings.Contains(b, `"guid g-retired is not the guid of product refill"`) }},
				{"neither productId nor guid", "playerId=alice", 400,
					func(b string) bool {
						return b == `{"code":3,"message":"missing query parameter \"productId\" (or \"guid\")","details":[]}`
					}},
				{"bad platform", "productId=gems&platform=web", 400, func(b string) bool { return strings.Contains(b, `"code":3,"message":"field \"platform\"`) }},
				{"productId too long", "productId=" + strings.Repeat("x", 129), 400, func(b string) bool { return strings.Contains(b, `"code":3,`) }},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e.tr.Reset()
					e.beyond = strings.Contains(tt.query, "environment=1") // an enum as its number
					code, body := e.get(tt.query, "v1", "")
					// lastUpdatedAt is when the catalog import changed the product.
					if code != tt.status || !tt.check(updatedAt.ReplaceAllString(body, `"lastUpdatedAt":"T"`)) {
						t.Fatalf("got %d %s, want %d", code, body, tt.status)
					}
					if calls := e.tr.Calls(); len(calls) != 0 {
						t.Errorf("warm offer lookup made DynamoDB calls %v, want none", calls)
					}
				})
			}
		})
	}
}

func TestOfferSignatures(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, 0)
			for _, tt := range []struct {
				name, header, value string
				status              int
			}{
				{"v1", "v1", "", 200},
				{"legacy refused on lookups by default", auth.HeaderStashLegacySignature, auth.SignStashLegacy([]byte(egressKey), nil), 401},
				{"missing", "", "", 401},
				{"stale", auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", start.Add(-10*time.Minute), nil), 401},
				{"signed over the query", auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", start, []byte("productId=gems")), 401},
				{"legacy wrong key", auth.HeaderStashLegacySignature, auth.SignStashLegacy([]byte("nope"), nil), 401},
			} {
				t.Run(tt.name, func(t *testing.T) {
					code, body := e.get("productId=gems", tt.header, tt.value)
					if code != tt.status {
						t.Fatalf("got %d %s, want %d", code, body, tt.status)
					}
					if code == 401 && body != `{"code":16,"message":"invalid or missing Stash signature","details":[]}` {
						t.Errorf("body %s", body)
					}
				})
			}
		})
	}
}

// The table failing after the catalog was loaded does not take offers down.
func TestOfferServesLastGoodCopy(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, 1)
			_, before := e.get("productId=gems", "v1", "")
			if e.stack.Minidyn != nil {
				e.stack.Minidyn.EmulateFailure(miniserver.FailureConditionInternalServerError)
			} else {
				e.tr.Inject(func(int, string) ddbtest.Fault { return ddbtest.Fail500 })
			}
			e.clock.Add(int64(2 * time.Hour))
			e.tr.Reset()
			if code, body := e.get("productId=gems", "v1", ""); code != http.StatusOK || body != before {
				t.Fatalf("table failing: %d %s, want %s", code, body, before)
			}
			if calls := e.tr.Calls(); len(calls) != 1 || calls[0] != "Scan" {
				t.Errorf("calls %v, want the one failed refresh", calls)
			}
		})
	}
}
