package functions_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// storeEnv is the local router over the sample stores, with a clock.
type storeEnv struct {
	t      *testing.T
	env    *ddbtest.Env
	router http.Handler
	mu     sync.Mutex
	now    time.Time
}

func newStoreEnv(t *testing.T, b ddbtest.Backend, vars map[string]string, maxAttempts int) *storeEnv {
	t.Helper()
	s := &storeEnv{t: t, now: time.Date(2026, 11, 30, 12, 0, 10, 0, time.UTC)}
	s.env = ddbtest.NewEnv(t, b, ddbtest.StackOptions{Env: vars, Stores: stores.Sample, MaxAttempts: maxAttempts,
		Now: func() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }})
	s.router = s.env.Router(t)
	return s
}

func (s *storeEnv) do(method, path, key, body string, header ...string) *httptest.ResponseRecorder {
	s.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "192.0.2.1:4000"
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.router.ServeHTTP(rec, req)
	return rec
}

const (
	devKey    = "sk_test_local_only_1"
	otherKey  = "sk_test_local_only_2"
	fulfilURL = "/api/v1/stores/my-store/licensing/fulfill/"
)

func fulfilBody(ref, sku string, q, total int) string {
	return fmt.Sprintf(`{"customer_email":"buyer@example.com","items":[{"sku":%q,"quantity":%d}],"external_reference":%q,"currency":"GBP","total_minor":%d}`, sku, q, ref, total)
}

func TestFulfilFlow(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newStoreEnv(t, b, nil, 0)
			tr := s.env.Transport
			// Warm the listing cache (a cold container reads it once).
			if r := s.do("POST", fulfilURL, devKey, fulfilBody("warm", "WIN-11-PRO", 1, 2999)); r.Code != 201 {
				t.Fatalf("warm-up: %d %s", r.Code, r.Body)
			}
			tr.Reset()
			first := s.do("POST", fulfilURL, devKey, fulfilBody("pay-1", "WIN-11-PRO", 2, 5998))
			if first.Code != 201 || !strings.Contains(first.Body.String(), `"status":"fulfilled"`) {
				t.Fatalf("fulfil: %d %s", first.Code, first.Body)
			}
			if calls := tr.Calls(); len(calls) != 2 || calls[0] != "TransactWriteItems" || calls[1] != "BatchGetItem" {
				t.Fatalf("happy path made DynamoDB calls %v, want [TransactWriteItems BatchGetItem]", calls)
			}
			if first.Header().Get("X-RateLimit-Limit") != "100" || first.Header().Get("X-RateLimit-Remaining") != "98" ||
				first.Header().Get("RateLimit-Policy") != `"fulfil";q=100;w=60` {
				t.Errorf("rate headers %v", first.Header())
			}
			// Replay, and the same without the trailing slash: the same body.
			for _, path := range []string{fulfilURL, strings.TrimSuffix(fulfilURL, "/")} {
				again := s.do("POST", path, devKey, fulfilBody("pay-1", "WIN-11-PRO", 2, 5998))
				if again.Code != 201 || again.Body.String() != first.Body.String() {
					t.Fatalf("replay on %s: %d %s, want %s", path, again.Code, again.Body, first.Body)
				}
			}
			// Conflict: the same reference, another body.
			if r := s.do("POST", fulfilURL, devKey, fulfilBody("pay-1", "WIN-11-PRO", 1, 2999)); r.Code != 409 ||
				!strings.Contains(r.Body.String(), `"code":"external_reference_conflict"`) || !strings.Contains(r.Body.String(), "items, total_minor") {
				t.Fatalf("conflict: %d %s", r.Code, r.Body)
			}
			// All or nothing: 2 keys left, 3 asked; then the 2 still there.
			if r := s.do("POST", fulfilURL, devKey, fulfilBody("pay-2", "WIN-11-PRO", 3, 1)); r.Code != 409 ||
				!strings.Contains(r.Body.String(), "WIN-11-PRO: 3 requested, 2 left") {
				t.Fatalf("short: %d %s", r.Code, r.Body)
			}
			if r := s.do("POST", fulfilURL, devKey, fulfilBody("pay-3", "WIN-11-PRO", 2, 1)); r.Code != 201 {
				t.Fatalf("the last two keys: %d %s", r.Code, r.Body)
			}
			// The order, with its keys and the price flag.
			var id string
			_, _ = fmt.Sscanf(first.Body.String(), `{"order_id":%q`, &id)
			id = strings.Trim(strings.SplitN(strings.TrimPrefix(first.Body.String(), `{"order_id":"`), `"`, 2)[0], `"`)
			o := s.do("GET", "/api/v1/stores/my-store/orders/"+id+"/", devKey, "")
			if o.Code != 200 || !strings.Contains(o.Body.String(), `"price_check":"match"`) || !strings.Contains(o.Body.String(), "AAAAA-BBBBB-CCCCC-DDDD2") {
				t.Fatalf("order: %d %s", o.Code, o.Body)
			}
			if r := s.do("GET", "/api/v1/stores/my-store/orders/"+id, otherKey, ""); r.Code != 401 {
				t.Fatalf("another store's key reads the order: %d %s", r.Code, r.Body)
			}
			// Refusals.
			for _, tc := range []struct {
				name, path, key, body string
				status                int
				code                  string
			}{
				// A key that is not one of the store's is refused before
				// anything about the store is looked at: whether it exists,
				// which products it sells.
				{"unknown store", "/api/v1/stores/no-store/licensing/fulfill/", devKey, fulfilBody("x", "WIN-11-PRO", 1, 1), 401, "unauthorized"},
				{"unknown store, bogus key", "/api/v1/stores/no-store/licensing/fulfill/", "sk_test_nobody_knows_1", fulfilBody("x", "WIN-11-PRO", 1, 1), 401, "unauthorized"},
				{"unknown sku, bogus key", fulfilURL, "sk_test_nobody_knows_1", fulfilBody("x", "WIN-12", 1, 1), 401, "unauthorized"},
				{"unknown sku, other store's key", fulfilURL, otherKey, fulfilBody("x", "WIN-12", 1, 1), 401, "unauthorized"},
				{"unknown sku", fulfilURL, devKey, fulfilBody("x", "WIN-12", 1, 1), 404, "product_not_found"},
				{"other store's key", fulfilURL, otherKey, fulfilBody("x", "WIN-11-PRO", 1, 1), 401, "unauthorized"},
				{"no key", fulfilURL, "", fulfilBody("x", "WIN-11-PRO", 1, 1), 401, "unauthorized"},
				{"quantity 0", fulfilURL, devKey, fulfilBody("x", "WIN-11-PRO", 0, 1), 400, "invalid_request"},
				{"no reference", fulfilURL, devKey, `{"items":[{"sku":"A","quantity":1}],"currency":"GBP","total_minor":1}`, 400, "invalid_request"},
				{"bad currency", fulfilURL, devKey, `{"items":[{"sku":"A","quantity":1}],"external_reference":"r","currency":"POUND","total_minor":1}`, 400, "invalid_request"},
				{"negative total", fulfilURL, devKey, fulfilBody("x", "WIN-11-PRO", 1, -1), 400, "invalid_request"},
				{"not JSON", fulfilURL, devKey, `{`, 400, "invalid_request"},
			} {
				r := s.do("POST", tc.path, tc.key, tc.body)
				if r.Code != tc.status || !strings.Contains(r.Body.String(), `"code":"`+tc.code+`"`) {
					t.Errorf("%s: %d %s, want %d %s", tc.name, r.Code, r.Body, tc.status, tc.code)
				}
			}
		})
	}
}

// A revoked key is refused at once; the rate limit's 101st request in a
// window is 429 with the headers, and the next window starts afresh.
func TestFulfilRevokedKeyAndRateLimit(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newStoreEnv(t, b, map[string]string{"FULFIL_RATE_LIMIT": "3"}, 0)
			admin := stores.Admin{DB: s.env.Stack.DB, Table: s.env.Tables.Stores, Now: time.Now}
			key, info, err := admin.CreateKey(context.Background(), "my-store", "live")
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 3; i++ {
				r := s.do("POST", fulfilURL, key, fulfilBody("same", "WIN-11-PRO", 1, 2999))
				if r.Code != 201 || r.Header().Get("X-RateLimit-Remaining") != fmt.Sprint(3-i) {
					t.Fatalf("request %d: %d %s %v", i, r.Code, r.Body, r.Header())
				}
			}
			r := s.do("POST", fulfilURL, key, fulfilBody("same", "WIN-11-PRO", 1, 2999))
			if r.Code != 429 || r.Header().Get("Retry-After") != "50" || r.Header().Get("X-RateLimit-Remaining") != "0" ||
				r.Header().Get("X-RateLimit-Reset") != fmt.Sprint(time.Date(2026, 11, 30, 12, 1, 0, 0, time.UTC).Unix()) {
				t.Fatalf("4th request: %d %s %v", r.Code, r.Body, r.Header())
			}
			s.mu.Lock()
			s.now = s.now.Add(time.Minute)
			s.mu.Unlock()
			if r := s.do("POST", fulfilURL, key, fulfilBody("same", "WIN-11-PRO", 1, 2999)); r.Code != 201 || r.Header().Get("X-RateLimit-Remaining") != "2" {
				t.Fatalf("new window: %d %s", r.Code, r.Header())
			}
			if err := admin.RevokeKey(context.Background(), "my-store", info.ID); err != nil {
				t.Fatal(err)
			}
			if r := s.do("POST", fulfilURL, key, fulfilBody("new", "WIN-11-PRO", 1, 2999)); r.Code != 401 {
				t.Fatalf("revoked key: %d %s", r.Code, r.Body)
			}
			if r := s.do("POST", fulfilURL, key, fulfilBody("same", "WIN-11-PRO", 1, 2999)); r.Code != 401 {
				t.Fatalf("revoked key replaying: %d %s", r.Code, r.Body)
			}
		})
	}
}

func TestGeoAndTax(t *testing.T) {
	s := newStoreEnv(t, ddbtest.Backend{Name: "minidyn"}, map[string]string{"PUBLIC_RATE_LIMIT": "5"}, 0)
	tr := s.env.Transport
	tr.Reset()
	r := s.do("GET", "/api/v1/geo/subdivisions/?country=us", "", "")
	if r.Code != 200 || !strings.HasPrefix(r.Body.String(), `{"country":"US","subdivisions":[{"code":"AK","name":"Alaska"},{"code":"AL","name":"Alabama"}`) ||
		r.Header().Get("ETag") == "" || !strings.Contains(r.Header().Get("Cache-Control"), "max-age") {
		t.Fatalf("subdivisions: %d %.200s %v", r.Code, r.Body, r.Header())
	}
	if calls := tr.Calls(); len(calls) != 1 || calls[0] != "UpdateItem" {
		t.Fatalf("calls %v, want the rate counter's UpdateItem only", calls)
	}
	if r2 := s.do("GET", "/api/v1/geo/subdivisions?country=US", "", "", "If-None-Match", r.Header().Get("ETag")); r2.Code != 304 {
		t.Fatalf("If-None-Match: %d", r2.Code)
	}
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/api/v1/tax/rates/?country=GB", 200, `"rates":[{"level":"country","type":"vat","rate":0.2}]`},
		{"/api/v1/tax/rates?country=ca&subdivision=qc", 200, `{"level":"subdivision","subdivision":"QC","type":"qst","rate":0.09975}`},
		{"/api/v1/tax/rates/?country=AQ", 200, `"rates":[]`},
		{"/api/v1/tax/rates/?country=ZZ", 404, `"code":"country_not_found"`},
	} {
		if r := s.do("GET", tc.path, "", ""); r.Code != tc.status || !strings.Contains(r.Body.String(), tc.want) {
			t.Errorf("%s: %d %s", tc.path, r.Code, r.Body)
		}
	}
	if r := s.do("GET", "/api/v1/geo/subdivisions/?country=USA", "", ""); r.Code != 400 || !strings.Contains(r.Body.String(), `"code":"invalid_request"`) {
		t.Fatalf("malformed country: %d %s", r.Code, r.Body)
	}
	s.do("GET", "/api/v1/geo/subdivisions/?country=FR", "", "")
	s.do("GET", "/api/v1/geo/subdivisions/?country=FR", "", "") // the 5th geo request of this address
	if r := s.do("GET", "/api/v1/geo/subdivisions/?country=FR", "", ""); r.Code != 429 || r.Header().Get("Retry-After") == "" {
		t.Fatalf("6th request from one IP: %d %v", r.Code, r.Header())
	}
}
