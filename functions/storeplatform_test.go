package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
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
			key, info, err := admin.CreateKey(context.Background(), "my-store", "live", "rate test", stores.NoAudit)
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
			if err := admin.RevokeKey(context.Background(), "my-store", info.ID, stores.NoAudit); err != nil {
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
	s := newStoreEnv(t, ddbtest.Backend{Name: "minidyn"}, map[string]string{"PUBLIC_RATE_LIMIT": "9"}, 0)
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
	s.do("GET", "/api/v1/geo/subdivisions/?country=FR", "", "") // the 9th geo or tax request of this address
	// One budget per client IP for geo and tax together (PublicRateLimit):
	// the 10th request is refused on either endpoint.
	for _, path := range []string{"/api/v1/tax/rates/?country=GB", "/api/v1/geo/subdivisions/?country=FR"} {
		if r := s.do("GET", path, "", ""); r.Code != 429 || r.Header().Get("Retry-After") == "" {
			t.Fatalf("%s, past the budget of one IP: %d %v", path, r.Code, r.Header())
		}
	}
}

// A store reads its checkout orders in every state the checkout can leave
// one in: 200 in the documented shape (the router holds answers to the
// contract), saying what the order is — its status, whether it was ever
// fulfilled (keys only then), what was refunded, a dispute — never a 503
// for an order whose keys were never claimed. A read is one DynamoDB call
// (the key's row and the order), three with keys (the products' claims,
// the keys).
func TestStoreOrderReadEveryCheckoutState(t *testing.T) {
	tr := ddbtest.NewTransport()
	site := newPagesSiteWith(t, ddbtest.Backend{Name: "minidyn"}, tr, nil)
	var more []string // keys for every paid case
	for n := range 10 {
		more = append(more, fmt.Sprintf("STATE-KEYSS-00000-%05d", n))
	}
	if _, _, err := (stores.Admin{DB: site.env.Stack.DB, Table: site.env.Tables.Stores, Now: site.now}).ImportLicenseKeys(context.Background(), "my-store", "WIN-11-PRO", more); err != nil {
		t.Fatal(err)
	}
	c := browserClient(t)
	const total = 2999 // WIN-11-PRO £29.99, VAT included (GBP)
	type order struct {
		id, payURL, session string
		payPage             page
	}
	place := func(t *testing.T, token string, email string) order {
		t.Helper()
		cart := fetch(t, c, http.MethodGet, site.URL+"/s/my-store/cart/?token="+url.QueryEscape(token), nil)
		payURL, payPage := toPayPage(t, c, site, cart, url.Values{"token": {token}, "email": {email}, "country": {"GB"}})
		id := strings.Split(strings.TrimPrefix(payURL, site.URL+"/s/my-store/pay/"), "/")[0]
		sid, _, _ := strings.Cut(token, ".")
		return order{id: id, payURL: payURL, session: sid, payPage: payPage}
	}
	pay := func(t *testing.T, o order) {
		t.Helper()
		expectPage(t, payOn(t, c, site, o.payURL, o.payPage, "4242424242424242"), http.StatusSeeOther)
	}
	event := func(t *testing.T, o order, typ string, obj map[string]any) {
		t.Helper()
		obj["metadata"] = map[string]string{"tollgate_store": "my-store", "tollgate_order": o.id, "tollgate_session": o.session}
		obj["currency"], obj["payment_intent"] = "gbp", site.paymentIntent(t, o.id)
		if answer := site.stripeEvent(t, "evt_"+typ+"_"+o.id, typ, obj); !strings.Contains(answer, `"applied"`) {
			t.Fatalf("%s: %s", typ, answer)
		}
	}
	refund := func(amount int) func(*testing.T, order) {
		return func(t *testing.T, o order) {
			event(t, o, "charge.refunded", map[string]any{"id": "ch_" + o.id, "object": "charge", "amount_refunded": amount})
		}
	}
	dispute := func(t *testing.T, o order) {
		event(t, o, "charge.dispute.created", map[string]any{"id": "dp_" + o.id, "object": "dispute", "amount": total, "status": "needs_response"})
	}
	type answer struct {
		Status        string `json:"status"`
		Fulfilled     bool   `json:"fulfilled"`
		RefundedMinor int64  `json:"refunded_minor"`
		DisputeStatus string `json:"dispute_status"`
		Items         []struct {
			LicenseKeys []string `json:"license_keys"`
		} `json:"items"`
	}
	for i, tc := range []struct {
		name  string
		steps []func(*testing.T, order)
		want  answer
		keys  int
	}{
		{name: "pending", want: answer{Status: "pending"}},
		{name: "fulfilled", steps: []func(*testing.T, order){pay}, want: answer{Status: "fulfilled", Fulfilled: true}, keys: 1},
		{name: "refunded after fulfilment", steps: []func(*testing.T, order){pay, refund(total)},
			want: answer{Status: "refunded", Fulfilled: true, RefundedMinor: total}, keys: 1},
		{name: "partially refunded after fulfilment", steps: []func(*testing.T, order){pay, refund(1000)},
			want: answer{Status: "partially_refunded", Fulfilled: true, RefundedMinor: 1000}, keys: 1},
		{name: "disputed after fulfilment", steps: []func(*testing.T, order){pay, dispute},
			want: answer{Status: "fulfilled", Fulfilled: true, DisputeStatus: "needs_response"}, keys: 1},
		{name: "refunded before its payment succeeded", steps: []func(*testing.T, order){refund(total), pay},
			want: answer{Status: "refunded", RefundedMinor: total}},
		{name: "partially refunded before its payment succeeded", steps: []func(*testing.T, order){refund(1000), pay},
			want: answer{Status: "partially_refunded", RefundedMinor: 1000}},
		{name: "disputed before its payment succeeded", steps: []func(*testing.T, order){dispute, pay},
			want: answer{Status: "pending", DisputeStatus: "needs_response"}},
		{name: "a session's second payment, refunded", want: answer{Status: "refunded", RefundedMinor: total}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, _ := site.session(t, fmt.Sprintf(`{"cart": {"WIN-11-PRO": 1}, "currency": "GBP", "metadata": {"external_reference": "state-%d"}}`, i))
			o := place(t, token, fmt.Sprintf("state%d@example.com", i))
			if tc.name == "a session's second payment, refunded" {
				second := place(t, token, fmt.Sprintf("state%d-second@example.com", i))
				pay(t, o)
				o = second
				tc.steps = []func(*testing.T, order){pay}
			}
			for _, step := range tc.steps {
				step(t, o)
			}
			req, _ := http.NewRequest(http.MethodGet, site.URL+"/api/v1/stores/my-store/orders/"+o.id+"/", nil)
			req.Header.Set("Authorization", "Bearer sk_test_local_only_1")
			tr.Reset()
			var got answer
			body := call(t, req, http.StatusOK)
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			// GBP prices include VAT: £29.99 holds 2999/6 = 499.83 → £5.00.
			if want := `"tax":{"subtotal_minor":2999,"tax_minor":500,"included":true,"rate":0.2,"label":"VAT 20%"}`; !strings.Contains(body, want) {
				t.Errorf("order %s: %s lacks %s", o.id, body, want)
			}
			if calls, want := len(tr.Calls()), map[bool]int{false: 1, true: 2}[tc.want.Fulfilled]; calls != want {
				t.Errorf("the read made %d DynamoDB calls, want %d: %v", calls, want, tr.Calls())
			}
			keys := 0
			for _, it := range got.Items {
				keys += len(it.LicenseKeys)
			}
			got.Items = nil
			if !reflect.DeepEqual(got, tc.want) || keys != tc.keys {
				t.Errorf("order %s reads %+v with %d keys, want %+v with %d", o.id, got, keys, tc.want, tc.keys)
			}
		})
	}
}
