package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/logtest"

	miniserver "github.com/truora/minidyn/server"

	"github.com/tollgate-dev/tollgate/functions/stash/catalog/handler"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const egressKey = "catalog-egress-key"

// testCatalog has one product of each kind the answer distinguishes.
const testCatalog = `{"products": [
  {"productId": "gems", "guid": "g-gems", "name": "Gems", "description": "100 gems", "imageUrl": "https://cdn.example.com/gems.png",
   "prices": {"USD": 199, "EUR": 189, "JPY": 300}, "metadata": {"grant": "gems"}},
  {"productId": "bundle", "name": "Bundle", "prices": {"USD": 999, "EUR": 949}, "stock": 10},
  {"productId": "starter", "guid": "g-starter", "name": "Starter", "prices": {"USD": 99, "EUR": 99}, "perPlayerLimit": 1},
  {"productId": "soldout", "name": "Sold out", "prices": {"USD": 5000, "EUR": 4900}, "stock": 0},
  {"productId": "seasonal", "guid": "g-seasonal", "name": "Seasonal", "description": "Back in December",
   "imageUrl": "https://cdn.example.com/seasonal.png", "prices": {"USD": 499}, "locked": true},
  {"productId": "refill", "name": "Refill", "prices": {"USD": 49}},
  {"productId": "retired", "name": "Retired", "prices": {"USD": 1, "GBP": 1}}
]}`

// The second import removes "retired": it is deactivated.
var testCatalogV2 = strings.Replace(testCatalog, `,
  {"productId": "retired", "name": "Retired", "prices": {"USD": 1, "GBP": 1}}`, "", 1)

// The whole default answer: USD, one section, products by productId, the
// locked one as a display-only item, the removed one left out.
const wantDefault = `{"catalog":{"sections":[{"header":{"defaultText":"Shop"},"items":[` +
	`{"product":{"productId":"bundle","type":"PURCHASABLE_ITEM_TYPE_STANDARD_OFFER","name":{"defaultText":"Bundle"},"maxPurchasable":10,"price":{"amount":{"currency":"USD","cents":999}}}},` +
	`{"product":{"guid":"g-gems","productId":"gems","type":"PURCHASABLE_ITEM_TYPE_STANDARD_OFFER","name":{"defaultText":"Gems"},"description":{"defaultText":"100 gems"},"image":"https://cdn.example.com/gems.png","maxPurchasable":10000,"price":{"amount":{"currency":"USD","cents":199}},"metadata":{"grant":"gems"}}},` +
	`{"product":{"productId":"refill","type":"PURCHASABLE_ITEM_TYPE_STANDARD_OFFER","name":{"defaultText":"Refill"},"maxPurchasable":10000,"price":{"amount":{"currency":"USD","cents":49}}}},` +
	`{"info":{"guid":"g-seasonal","itemId":"seasonal","type":"NON_PURCHASABLE_ITEM_TYPE_UNSPECIFIED","title":{"defaultText":"Seasonal"},"body":{"defaultText":"Back in December"},"attributes":{"background":{"imageUrl":"https://cdn.example.com/seasonal.png"}}}},` +
	`{"product":{"productId":"soldout","type":"PURCHASABLE_ITEM_TYPE_STANDARD_OFFER","name":{"defaultText":"Sold out"},"maxPurchasable":0,"price":{"amount":{"currency":"USD","cents":5000}}}},` +
	`{"product":{"guid":"g-starter","productId":"starter","type":"PURCHASABLE_ITEM_TYPE_STANDARD_OFFER","name":{"defaultText":"Starter"},"maxPurchasable":1,"price":{"amount":{"currency":"USD","cents":99}}}}` +
	`]}]}}`

// clock is a settable clock shared by the stack, the handlers and the signer.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type env struct {
	t      testing.TB
	fn     *ddbtest.Env
	stack  *localenv.Stack
	tr     *ddbtest.Transport
	clock  *clock
	logs   *logtest.Buffer
	vars   map[string]string // the functions' settings over the template's, read on every lookup
	mux    *http.ServeMux
	signed atomic.Int64 // lookups signed so far
}

// sign returns a v1 header for a lookup, each at its own millisecond: a
// lookup's v1 signature is refused for another query (stashhttp.HandleQuery),
// and the clock stands still in these tests.
func (e *env) sign() string {
	return auth.SignStashV1([]byte(egressKey), "shop-1", e.clock.Now().Add(time.Duration(e.signed.Add(1))*time.Millisecond), nil)
}

type options struct {
	maxAttempts int
	vars        map[string]string
	beforeNew   func(*env) // runs before the handler is built (and warms its cache)
}

// newEnv stands up the tables on backend b with the test catalog imported
// twice (so "retired" is inactive) and mounts the catalog handler and, to
// buy through the real purchase flow, the register handler.
func newEnv(t testing.TB, b ddbtest.Backend, o options) *env {
	t.Helper()
	vars := map[string]string{"STASH_EGRESS_KEY": egressKey, "CATALOG_CACHE_TTL": "1h", "RESERVATION_TTL": "30m"}
	for k, v := range o.vars {
		vars[k] = v
	}
	e := &env{t: t, clock: newClock(), logs: &logtest.Buffer{}, vars: vars, mux: http.NewServeMux()}
	e.fn = ddbtest.NewEnv(t, b, ddbtest.StackOptions{Env: vars, MaxAttempts: o.maxAttempts, Now: e.clock.Now, Catalog: []byte(testCatalog),
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	e.stack, e.tr = e.fn.Stack, e.fn.Transport
	if _, err := e.stack.ImportCatalog(context.Background(), []byte(testCatalogV2)); err != nil {
		t.Fatal(err)
	}
	if o.beforeNew != nil {
		o.beforeNew(e)
	}
	e.mux.Handle("GET /api/v1/catalog", e.fn.Handler(t, "CatalogFunction"))
	e.mux.Handle("POST /api/v1/purchase/register", e.fn.Handler(t, "RegisterFunction"))
	return e
}

// deps are the catalog function's dependencies as template.yaml gives them.
func (e *env) deps() deps.Deps { return e.fn.Deps(e.t, "CatalogFunction") }

// get sends a v1-signed catalog request and checks the answer against
// the contract (ddbtest.Checked).
func (e *env) get(query string) (int, string) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/catalog?"+query, nil)
	req.Header.Set(auth.HeaderStashSignature, e.sign())
	return e.serve(req)
}

func (e *env) serve(req *http.Request) (int, string) {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	body := strings.TrimSpace(rec.Body.String())
	return rec.Code, body
}

// summary reads a 200 answer as "productId=maxPurchasable@CUR cents" per
// product and "info:productId" per display-only item.
func (e *env) summary(query string) string {
	e.t.Helper()
	code, body := e.get(query)
	if code != http.StatusOK {
		e.t.Fatalf("GET ?%s: %d %s", query, code, body)
	}
	return summarize(e.t, body)
}

func summarize(t testing.TB, body string) string {
	t.Helper()
	var r stashapi.CatalogResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range r.Catalog.Sections {
		for _, it := range s.Items {
			if p := it.Product; p != nil {
				out = append(out, fmt.Sprintf("%s=%d@%s%d", p.ProductID, p.MaxPurchasable, p.Price.Amount.Currency, p.Price.Amount.Cents))
			}
			if it.Info != nil {
				out = append(out, "info:"+it.Info.ItemID)
			}
		}
	}
	return strings.Join(out, " ")
}

func (e *env) register(tx, player, productID string, cents, quantity int) {
	e.t.Helper()
	body := fmt.Sprintf(`{"playerId":%q,"transactionId":%q,"currency":"USD","decimalPlaces":2,"registrations":[{"productId":%q,"cents":%d,"quantity":%d}]}`,
		player, tx, productID, cents, quantity)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/purchase/register", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", e.clock.Now(), []byte(body)))
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), stashapi.RegistrationRegistered) {
		e.t.Fatalf("register %s: %d %s", tx, rec.Code, rec.Body)
	}
}

// calls asserts the DynamoDB operations since the last Reset.
func (e *env) calls(what string, want ...string) {
	e.t.Helper()
	if got := e.tr.Calls(); strings.Join(got, " ") != strings.Join(want, " ") {
		e.t.Fatalf("%s made DynamoDB calls %v, want %v", what, got, want)
	}
}

func eachBackend(t *testing.T, fn func(t *testing.T, b ddbtest.Backend)) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

func TestCatalog(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, options{})

		// Warm: no DynamoDB call at all, whatever the query.
		e.tr.Reset()
		if code, body := e.get(""); code != http.StatusOK || body != wantDefault {
			t.Fatalf("default catalog:\n got %d %s\nwant %s", code, body, wantDefault)
		}
		for _, tt := range []struct{ name, query, want string }{
			{"region priced in EUR (refill is not: left out)", "region=DE&language=de",
				"bundle=10@EUR949 gems=10000@EUR189 info:seasonal soldout=0@EUR4900 starter=1@EUR99"},
			{"EU", "region=eu", "bundle=10@EUR949 gems=10000@EUR189 info:seasonal soldout=0@EUR4900 starter=1@EUR99"},
			{"region priced in JPY", "region=JP", "gems=10000@JPY300 info:seasonal"},
			{"region whose currency nothing is priced in", "region=GB", "bundle=10@USD999 gems=10000@USD199 refill=10000@USD49 info:seasonal soldout=0@USD5000 starter=1@USD99"},
			{"unmapped region", "region=AQ", "bundle=10@USD999 gems=10000@USD199 refill=10000@USD49 info:seasonal soldout=0@USD5000 starter=1@USD99"},
			{"currency parameter over region", "region=JP&currency=eur", "bundle=10@EUR949 gems=10000@EUR189 info:seasonal soldout=0@EUR4900 starter=1@EUR99"},
			{"every Stash parameter", "platform=CATALOG_PLATFORM_WEBSTORE&region=US&language=en&shopId=shop-1&environment=PAYMENT_ENVIRONMENT_TEST&currentTierId=gold&nextTierId=platinum",
				"bundle=10@USD999 gems=10000@USD199 refill=10000@USD49 info:seasonal soldout=0@USD5000 starter=1@USD99"},
		} {
			if got := e.summary(tt.query); got != tt.want {
				t.Errorf("%s: got  %s\nwant %s", tt.name, got, tt.want)
			}
		}
		e.calls("warm catalog requests")

		// With a player: exactly one Query, for the player's counters.
		e.tr.Reset()
		if got, want := e.summary("playerId=alice"), "bundle=10@USD999 gems=10000@USD199 refill=10000@USD49 info:seasonal soldout=0@USD5000 starter=1@USD99"; got != want {
			t.Fatalf("alice before buying: %s", got)
		}
		e.calls("catalog with playerId", "Query")

		// Alice buys through the real purchase flow: her per-player
		// allowance shows at once (it is read per request); the stock left
		// shows once the cached catalog is refreshed.
		e.register("tx-1", "alice", "starter", 99, 1)
		e.register("tx-2", "alice", "bundle", 999, 2)
		e.tr.Reset()
		if got, want := e.summary("playerId=alice"), "bundle=10@USD999 gems=10000@USD199 refill=10000@USD49 info:seasonal soldout=0@USD5000 starter=0@USD99"; got != want {
			t.Fatalf("alice after buying, cached stock:\n got  %s\nwant %s", got, want)
		}
		e.calls("catalog with playerId", "Query")
		e.clock.Advance(61 * time.Minute) // past CATALOG_CACHE_TTL
		e.tr.Reset()
		if got, want := e.summary("player_id=alice"), "bundle=8@USD999 gems=10000@USD199 refill=10000@USD49 info:seasonal soldout=0@USD5000 starter=0@USD99"; got != want {
			t.Fatalf("alice after the refresh:\n got  %s\nwant %s", got, want)
		}
		e.calls("catalog refresh with playerId", "Scan", "Query")
		e.tr.Reset()
		if got, want := e.summary("playerId=bob"), "bundle=8@USD999 gems=10000@USD199 refill=10000@USD49 info:seasonal soldout=0@USD5000 starter=1@USD99"; got != want {
			t.Fatalf("bob:\n got  %s\nwant %s", got, want)
		}
		e.calls("catalog with playerId", "Query")
	})
}

// A slow or failing table never takes the catalog down once it was loaded:
// the cache serves its last good copy (and logs it), and the player's
// counters are left out (and logged).
func TestCatalogServesLastGoodCopy(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, options{maxAttempts: 1})
		e.register("tx-1", "alice", "starter", 99, 1)
		_, before := e.get("")
		if before != wantDefault {
			t.Fatalf("before the failure: %s", before)
		}

		fail := func(on bool) {
			if e.stack.Minidyn != nil {
				cond := miniserver.FailureConditionNone
				if on {
					cond = miniserver.FailureConditionInternalServerError
				}
				e.stack.Minidyn.EmulateFailure(cond)
				return
			}
			if on { // moto cannot be told to fail: the transport does it
				e.tr.Inject(func(int, string) ddbtest.Fault { return ddbtest.Fail500 })
			} else {
				e.tr.Inject(nil)
			}
		}
		fail(true)
		e.clock.Advance(2 * time.Hour) // the snapshot is stale: Get tries to refresh
		e.tr.Reset()
		if code, body := e.get(""); code != http.StatusOK || body != before {
			t.Fatalf("table failing: %d %s, want the last good catalog", code, body)
		}
		e.calls("stale catalog with the table failing", "Scan")
		if !strings.Contains(e.logs.String(), "catalog refresh failed; serving the previous snapshot") {
			t.Errorf("the fallback is not logged:\n%s", e.logs)
		}
		// Within the back-off the copy is served without trying again.
		e.tr.Reset()
		if got := e.summary("playerId=alice"); !strings.Contains(got, "starter=1@USD99") {
			t.Errorf("alice without her counters: %s, want the catalog-wide allowance", got)
		}
		e.calls("catalog with playerId, table failing", "Query")
		if !strings.Contains(e.logs.String(), "player's purchase counts unavailable; answering the catalog without them") {
			t.Errorf("the missing counters are not logged:\n%s", e.logs)
		}

		// The table comes back: the next refresh after the back-off reads it.
		fail(false)
		e.clock.Advance(7 * time.Minute) // past the back-off (TTL/10)
		e.tr.Reset()
		if got := e.summary("playerId=alice"); !strings.Contains(got, "starter=0@USD99") {
			t.Errorf("after recovery: %s", got)
		}
		e.calls("catalog after recovery", "Scan", "Query")
	})
}

// slowTransport holds every Query for delay (or until the request gives
// up), so the table looks slow rather than failing.
type slowTransport struct {
	base  http.RoundTripper
	delay time.Duration
}

func (s slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".Query") {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return s.base.RoundTrip(r)
}

func TestCatalogSlowPlayerCounters(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, options{vars: map[string]string{"LOOKUP_TIMEOUT": "100ms"}, maxAttempts: 1})
		e.register("tx-1", "alice", "starter", 99, 1)
		e.tr.Base = &http.Client{Transport: slowTransport{base: http.DefaultTransport.(*http.Transport).Clone(), delay: time.Minute}}
		if got := e.summary("playerId=alice"); !strings.Contains(got, "starter=1@USD99") {
			t.Errorf("slow counters: %s, want the catalog without them", got)
		}
		if !strings.Contains(e.logs.String(), "player's purchase counts unavailable") {
			t.Errorf("not logged:\n%s", e.logs)
		}
	})
}

// With no catalog ever loaded there is nothing to serve: 503 code 14; the
// next request tries again.
func TestCatalogColdWithTableDown(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, options{maxAttempts: 1, beforeNew: func(e *env) {
			e.tr.Inject(func(int, string) ddbtest.Fault { return ddbtest.Fail500 })
		}})
		if !strings.Contains(e.logs.String(), "catalog not loaded at start") {
			t.Errorf("the failed warm-up is not logged:\n%s", e.logs)
		}
		if code, body := e.get(""); code != http.StatusServiceUnavailable || !strings.HasPrefix(body, `{"code":14,`) {
			t.Fatalf("cold, table down: %d %s, want 503 code 14", code, body)
		}
		e.tr.Inject(nil)
		if code, body := e.get(""); code != http.StatusOK || body != wantDefault {
			t.Fatalf("table back: %d %s", code, body)
		}
	})
}

func TestCatalogSignatures(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, options{})
		legacyOff := newEnv(t, b, options{vars: map[string]string{"STASH_LEGACY_SIGNATURES": "false", "STASH_SHOP_ID": "shop-1"}})
		legacyLookups := newEnv(t, b, options{vars: map[string]string{"STASH_LEGACY_SIGNATURES_FOR_LOOKUPS": "true"}})
		now := e.clock.Now()
		tests := []struct {
			name   string
			e      *env
			header string
			value  string
			status int
		}{
			{"v1", e, auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", now, nil), 200},
			{"v1 over an empty body slice", e, auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", now, []byte{}), 200},
			{"legacy refused on lookups by default", e, auth.HeaderStashLegacySignature, auth.SignStashLegacy([]byte(egressKey), nil), 401},
			{"legacy turned on for lookups", legacyLookups, auth.HeaderStashLegacySignature, auth.SignStashLegacy([]byte(egressKey), nil), 200},
			{"missing", e, "", "", 401},
			{"stale", e, auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", now.Add(-5*time.Minute-time.Second), nil), 401},
			{"from the future", e, auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", now.Add(6*time.Minute), nil), 401},
			{"wrong key", e, auth.HeaderStashSignature, auth.SignStashV1([]byte("not-the-key"), "shop-1", now, nil), 401},
			{"signed over a body", e, auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", now, []byte("playerId=alice")), 401},
			{"malformed", e, auth.HeaderStashSignature, "v1;shop-1;nope;AAAA", 401},
			{"legacy wrong key", e, auth.HeaderStashLegacySignature, auth.SignStashLegacy([]byte("not-the-key"), nil), 401},
			{"legacy disabled", legacyOff, auth.HeaderStashLegacySignature, auth.SignStashLegacy([]byte(egressKey), nil), 401},
			{"another shop", legacyOff, auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-2", now, nil), 401},
			{"the configured shop", legacyOff, auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", now, nil), 200},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/catalog?playerId=alice", nil)
				if tt.header != "" {
					req.Header.Set(tt.header, tt.value)
				}
				tt.e.tr.Reset()
				code, body := tt.e.serve(req)
				if code != tt.status {
					t.Fatalf("got %d %s, want %d", code, body, tt.status)
				}
				if code == http.StatusUnauthorized {
					if body != `{"code":16,"message":"invalid or missing Stash signature","details":[]}` {
						t.Errorf("body %s", body)
					}
					tt.e.calls("a refused request")
				}
			})
		}
	})
}

func TestCatalogBadQuery(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, options{})
		for _, tt := range []struct{ name, query, message string }{
			{"platform name", "platform=ios", `field "platform" must be one of`},
			{"platform of another enum", "platform=PURCHASE_PLATFORM_IOS", `field "platform"`},
			{"environment number too big", "environment=4294967296", `field "environment"`},
			{"region", "region=USA", `field "region" must be a 2-letter ISO 3166-1 region code, got "USA"`},
			{"language", "language=x", `field "language" must be a language tag`},
			{"language too long", "language=" + strings.Repeat("a", 36), `field "language"`},
			{"playerId too long", "playerId=" + strings.Repeat("p", 129), `field "playerId" is longer than 128 characters`},
			{"shopId control character", "shopId=a%0Ab", `field "shopId" holds a control`},
			{"currency not 3 letters", "currency=EURO", `field "currency" must be a 3-letter ISO 4217 code`},
			{"currency nothing is priced in", "currency=CHF", `field "currency": no product is priced in CHF`},
			{"currency only a removed product is priced in", "currency=GBP", `no product is priced in GBP`},
			{"repeated parameter", "region=US&region=JP", `query parameter "region" is given 2 times`},
			{"malformed escape", "playerId=%G1", `malformed query string`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				e.tr.Reset()
				code, body := e.get(tt.query)
				var st struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal([]byte(body), &st); err != nil || code != http.StatusBadRequest || st.Code != 3 || !strings.Contains(st.Message, tt.message) {
					t.Fatalf("got %d %s, want 400 code 3 %q", code, body, tt.message)
				}
				if tt.name != "currency nothing is priced in" && tt.name != "currency only a removed product is priced in" {
					e.calls("a refused query")
				}
			})
		}
	})
}

func TestCatalogSettings(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, options{vars: map[string]string{"CATALOG_DEFAULT_CURRENCY": "eur", "CATALOG_SECTION_TITLE": "-"}})
		code, body := e.get("region=AQ")
		if code != http.StatusOK || !strings.HasPrefix(body, `{"catalog":{"sections":[{"items":[`) {
			t.Fatalf("no header: %d %s", code, body)
		}
		if got, want := summarize(t, body), "bundle=10@EUR949 gems=10000@EUR189 info:seasonal soldout=0@EUR4900 starter=1@EUR99"; got != want {
			t.Errorf("default currency EUR: %s", got)
		}
		e.vars["CATALOG_SECTION_TITLE"] = "Boutique"
		h, err := handler.New(e.deps())
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/api/v1/catalog", nil)
		req.Header.Set(auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", e.clock.Now(), nil))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !strings.HasPrefix(rec.Body.String(), `{"catalog":{"sections":[{"header":{"defaultText":"Boutique"},`) {
			t.Errorf("titled section: %s", rec.Body)
		}
		for k, v := range map[string]string{"CATALOG_DEFAULT_CURRENCY": "EURO", "LOOKUP_TIMEOUT": "fast", "CATALOG_CACHE_TTL": "-1s", "STASH_SIGNATURE_WINDOW": "0"} {
			clear(e.vars)
			e.vars["STASH_EGRESS_KEY"], e.vars[k] = egressKey, v
			if _, err := handler.New(e.deps()); err == nil || !strings.Contains(err.Error(), k) {
				t.Errorf("%s=%s: New = %v, want an error naming it", k, v, err)
			}
		}
	})
}
