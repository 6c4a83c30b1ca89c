package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

const (
	egressKey = "flow-egress-key"
	flowGame  = "flow-game-key"
)

const flowCatalog = `{"products": [
  {"productId": "gem_pack", "guid": "g-gem", "name": "Gems", "prices": {"USD": 199, "JPY": 300}},
  {"productId": "bundle", "name": "Bundle", "prices": {"USD": 999}, "stock": 10},
  {"productId": "starter", "name": "Starter", "prices": {"USD": 99}, "perPlayerLimit": 1},
  {"productId": "seasonal", "name": "Seasonal", "prices": {"USD": 499}, "locked": true}
]}`

// clock is a settable clock shared by the stack and the signer.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time            { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration)   { c.ns.Add(int64(d)) }
func (c *clock) NowFunc() func() time.Time { return c.Now }

type flow struct {
	t      *testing.T
	stack  *localenv.Stack
	router http.Handler
	tr     *ddbtest.Transport
	clock  *clock
}

func newFlow(t *testing.T, b ddbtest.Backend, maxAttempts int) *flow {
	t.Helper()
	return newFlowLogged(t, b, maxAttempts, nil)
}

// newFlowLogged is newFlow writing its log to logger (nil: none).
func newFlowLogged(t *testing.T, b ddbtest.Backend, maxAttempts int, logger *slog.Logger) *flow {
	t.Helper()
	c := newClock()
	tr := ddbtest.NewTransport()
	stack := ddbtest.NewStack(t, b, ddbtest.StackOptions{
		Env: map[string]string{
			"STASH_EGRESS_KEY": egressKey, "GAME_SERVER_KEY": flowGame, "STASH_API_KEY": "k",
			"CATALOG_CACHE_TTL": "1h", "RESERVATION_TTL": "30m",
		},
		Transport: tr, MaxAttempts: maxAttempts, Now: c.Now, Catalog: []byte(flowCatalog), Logger: logger,
	})
	router := ddbtest.Router(t, stack)
	return &flow{t: t, stack: stack, router: router, tr: tr, clock: c}
}

// post sends a v1-signed Stash call.
func (f *flow) post(path, body string) (int, string) {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", f.clock.Now(), []byte(body)))
	rec := httptest.NewRecorder()
	f.router.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func registerBody(tx, player string, lines ...any) string {
	var regs []string
	for i := 0; i+2 < len(lines)+1; i += 3 {
		regs = append(regs, fmt.Sprintf(`{"productId":%q,"guid":"","cents":%d,"quantity":%d}`, lines[i], lines[i+1], lines[i+2]))
	}
	return fmt.Sprintf(`{"playerId":%q,"transactionId":%q,"currency":"USD","decimalPlaces":2,"environment":"PAYMENT_ENVIRONMENT_TEST","registrations":[%s]}`,
		player, tx, strings.Join(regs, ","))
}

func itemsBody(kind, tx, player string, extra string, lines ...any) string {
	var items []string
	for i := 0; i+2 < len(lines)+1; i += 3 {
		items = append(items, fmt.Sprintf(`{"productId":%q,"guid":"","cents":%d,"quantity":%d}`, lines[i], lines[i+1], lines[i+2]))
	}
	body := fmt.Sprintf(`{"playerId":%q,"transactionId":%q,"currency":"USD","decimalPlaces":2,"items":[%s]`, player, tx, strings.Join(items, ","))
	if kind == "confirm" {
		body += `,"tax":0,"total":100,"timeMillis":"1795300000000"`
	}
	return body + extra + "}"
}

func (f *flow) register(tx, player string, lines ...any) []stashapi.RegistrationStatus {
	f.t.Helper()
	code, body := f.post("/api/v1/purchase/register", registerBody(tx, player, lines...))
	if code != http.StatusOK {
		f.t.Fatalf("register %s: %d %s", tx, code, body)
	}
	var r stashapi.RegisterResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		f.t.Fatal(err)
	}
	return r.Statuses
}

func (f *flow) confirm(tx, player, extra string, lines ...any) (int, string) {
	f.t.Helper()
	return f.post("/api/v1/purchase/confirm", itemsBody("confirm", tx, player, extra, lines...))
}

func (f *flow) cancel(tx, player string, lines ...any) stashapi.CancelResponse {
	f.t.Helper()
	code, body := f.post("/api/v1/purchase/cancel", itemsBody("cancel", tx, player, "", lines...))
	if code != http.StatusOK {
		f.t.Fatalf("cancel %s: %d %s", tx, code, body)
	}
	var r stashapi.CancelResponse
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *flow) inventory(player string) map[string]int64 {
	f.t.Helper()
	items, _, err := players.Holdings(context.Background(), f.stack.DB, f.stack.TableName("PlayersTable"), player)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, it := range items {
		out[it.ProductID] = it.Quantity
	}
	return out
}

// stock reads a product's counters from the table.
func (f *flow) stock(productID string) catalog.Product {
	f.t.Helper()
	products, err := catalog.Scan(context.Background(), f.stack.DB, f.stack.TableName("CatalogTable"))
	if err != nil {
		f.t.Fatal(err)
	}
	for _, p := range products {
		if p.ProductID == productID {
			return p
		}
	}
	f.t.Fatalf("no product %s", productID)
	return catalog.Product{}
}

func (f *flow) assertStock(productID string, available, reserved, sold int64) {
	f.t.Helper()
	p := f.stock(productID)
	if p.Available != available || p.Reserved != reserved || p.Sold != sold {
		f.t.Fatalf("%s: available %d reserved %d sold %d, want %d %d %d", productID, p.Available, p.Reserved, p.Sold, available, reserved, sold)
	}
	if p.Stock != nil && p.Available+p.Reserved+p.Sold != *p.Stock {
		f.t.Fatalf("%s: counters %d+%d+%d do not add up to stock %d", productID, p.Available, p.Reserved, p.Sold, *p.Stock)
	}
}

func statusesOf(st []stashapi.RegistrationStatus) []string {
	out := make([]string, len(st))
	for i, s := range st {
		out[i] = strings.TrimPrefix(s.Status, "PURCHASE_REGISTRATION_STATUS_")
	}
	return out
}

func eachFlowBackend(t *testing.T, fn func(t *testing.T, b ddbtest.Backend)) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

func TestRegisterConfirmCancelFlow(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newFlow(t, b, 0)

		// Register: one DynamoDB call on the happy path.
		f.tr.Reset()
		st := f.register("tx-1", "alice", "gem_pack", 199, 2, "bundle", 999, 1)
		if got := fmt.Sprint(statusesOf(st)); got != "[SUCCESS_REGISTERED SUCCESS_REGISTERED]" {
			t.Fatalf("statuses %v", got)
		}
		if calls := f.tr.Calls(); len(calls) != 1 {
			t.Fatalf("register made %v, want one TransactWriteItems", calls)
		}
		f.assertStock("bundle", 9, 1, 0)

		// A replay answers the same and reserves nothing more.
		if st2 := f.register("tx-1", "alice", "gem_pack", 199, 2, "bundle", 999, 1); fmt.Sprint(st2) != fmt.Sprint(st) {
			t.Fatalf("replay %v, want %v", st2, st)
		}
		f.assertStock("bundle", 9, 1, 0)
		// The same transactionId with another body: failure statuses, nothing changed.
		if got := fmt.Sprint(statusesOf(f.register("tx-1", "alice", "bundle", 999, 3))); got != "[UNSPECIFIED]" {
			t.Fatalf("reused transactionId: %v", got)
		}
		f.assertStock("bundle", 9, 1, 0)

		// Confirm: one call; items and bonus items granted; reservation sold.
		f.tr.Reset()
		code, body := f.confirm("tx-1", "alice", `,"bonusItems":[{"id":"coin","quantity":50}]`, "bundle", 999, 1, "gem_pack", 199, 2)
		if code != http.StatusOK || !strings.Contains(body, `"results":[`) {
			t.Fatalf("confirm: %d %s", code, body)
		}
		if calls := f.tr.Calls(); len(calls) != 1 {
			t.Fatalf("confirm made %v, want one TransactWriteItems", calls)
		}
		f.assertStock("bundle", 9, 0, 1)
		want := map[string]int64{"bundle": 1, "gem_pack": 2, "coin": 50}
		if got := f.inventory("alice"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("inventory %v, want %v", got, want)
		}
		// A replay gets the same body and grants nothing.
		code2, body2 := f.confirm("tx-1", "alice", `,"bonusItems":[{"id":"coin","quantity":50}]`, "bundle", 999, 1, "gem_pack", 199, 2)
		if code2 != http.StatusOK || body2 != body {
			t.Fatalf("confirm replay: %d %s, want %s", code2, body2, body)
		}
		if got := f.inventory("alice"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("after replay inventory %v", got)
		}
		// Confirmed: cancel reports completed; a confirm with other items or player is refused.
		if c := f.cancel("tx-1", "alice", "gem_pack", 199, 2, "bundle", 999, 1); c.Status != stashapi.CancellationAlreadyCompleted {
			t.Fatalf("cancel after confirm: %+v", c)
		}
		if code, body := f.confirm("tx-1", "alice", "", "gem_pack", 199, 2); code != http.StatusConflict || !strings.Contains(body, `"code":6`) {
			t.Fatalf("confirm with other items: %d %s", code, body)
		}
		if code, _ := f.confirm("tx-1", "bob", `,"bonusItems":[{"id":"coin","quantity":50}]`, "bundle", 999, 1, "gem_pack", 199, 2); code != http.StatusConflict {
			t.Fatalf("confirm by another player: %d", code)
		}

		// Register then cancel: stock back; a replay answers the same.
		f.register("tx-2", "bob", "bundle", 999, 2)
		f.assertStock("bundle", 7, 2, 1)
		f.tr.Reset()
		if c := f.cancel("tx-2", "bob", "bundle", 999, 2); c.Status != stashapi.CancellationCancelled {
			t.Fatalf("cancel: %+v", c)
		}
		if calls := f.tr.Calls(); len(calls) != 1 {
			t.Fatalf("cancel made %v, want one TransactWriteItems", calls)
		}
		f.assertStock("bundle", 9, 0, 1)
		if c := f.cancel("tx-2", "bob", "bundle", 999, 2); c.Status != stashapi.CancellationCancelled {
			t.Fatalf("cancel replay: %+v", c)
		}
		f.assertStock("bundle", 9, 0, 1)
		if c := f.cancel("tx-nope", "bob", "bundle", 999, 2); c.Status != stashapi.CancellationNotFound {
			t.Fatalf("cancel of nothing: %+v", c)
		}
		// A confirm after the cancel is a charged purchase: sold when stock allows.
		if code, body := f.confirm("tx-2", "bob", "", "bundle", 999, 2); code != http.StatusOK {
			t.Fatalf("confirm after cancel: %d %s", code, body)
		}
		f.assertStock("bundle", 7, 0, 3)
		// A confirm of a transaction never registered, too.
		if code, body := f.confirm("tx-unregistered", "carol", "", "gem_pack", 199, 1); code != http.StatusOK {
			t.Fatalf("confirm without registration: %d %s", code, body)
		}
		if got := f.inventory("carol"); got["gem_pack"] != 1 {
			t.Fatalf("carol's inventory %v", got)
		}
		// ... but not beyond the stock.
		if code, body := f.confirm("tx-too-many", "carol", "", "bundle", 999, 8); code != http.StatusConflict || !strings.Contains(body, `"code":9`) {
			t.Fatalf("confirm beyond stock: %d %s", code, body)
		}
		f.assertStock("bundle", 7, 0, 3)
		// ... nor beyond the per-player limit, for a player who never bought
		// it (no counter row yet) as for one who did.
		if code, body := f.confirm("tx-over-limit", "dora", "", "starter", 99, 2); code != http.StatusConflict || !strings.Contains(body, "purchase limit of starter") {
			t.Fatalf("confirm beyond the per-player limit by a new player: %d %s", code, body)
		}
		if got := f.inventory("dora"); got["starter"] != 0 {
			t.Fatalf("dora's inventory %v: nothing may be granted past the limit", got)
		}
	})
}

func TestRegisterFailures(t *testing.T) {
	cases := []struct {
		name  string
		lines []any
		want  string
	}{
		{"unknown product", []any{"nope", 100, 1, "gem_pack", 199, 1}, "[FAILED_INVALID_OFFER UNSPECIFIED]"},
		{"wrong price", []any{"gem_pack", 198, 1}, "[FAILED_INVALID_PRICE]"},
		{"locked", []any{"seasonal", 499, 1, "bundle", 999, 1}, "[FAILED_PURCHASE_LOCKED UNSPECIFIED]"},
		{"over the player limit", []any{"starter", 99, 2}, "[FAILED_PURCHASE_LIMIT_EXCEEDED]"},
		{"more than the stock", []any{"bundle", 999, 11}, "[FAILED_INSUFFICIENT_INVENTORY]"},
		{"lines disagree on price", []any{"gem_pack", 199, 1, "gem_pack", 200, 1}, "[UNSPECIFIED FAILED_INVALID_PRICE]"},
	}
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newFlow(t, b, 0)
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				tx := fmt.Sprintf("fail-%d", i)
				st := f.register(tx, "dave", c.lines...)
				if got := fmt.Sprint(statusesOf(st)); got != c.want {
					t.Fatalf("statuses %v, want %v (%+v)", got, c.want, st)
				}
				// Recorded: a replay answers the same.
				if again := f.register(tx, "dave", c.lines...); fmt.Sprint(again) != fmt.Sprint(st) {
					t.Fatalf("replay %v, want %v", again, st)
				}
			})
		}
		f.assertStock("bundle", 10, 0, 0)
		// Not priced in the currency.
		code, body := f.post("/api/v1/purchase/register", strings.Replace(registerBody("eur-1", "dave", "gem_pack", 199, 1), `"USD"`, `"EUR"`, 1))
		if code != 200 || !strings.Contains(body, "FAILED_INVALID_PRICE") {
			t.Fatalf("unpriced currency: %d %s", code, body)
		}
		// The per-player limit counts earlier purchases; stock runs out.
		if got := fmt.Sprint(statusesOf(f.register("lim-1", "erin", "starter", 99, 1))); got != "[SUCCESS_REGISTERED]" {
			t.Fatal(got)
		}
		if got := fmt.Sprint(statusesOf(f.register("lim-2", "erin", "starter", 99, 1, "gem_pack", 199, 1))); got != "[FAILED_PURCHASE_LIMIT_EXCEEDED UNSPECIFIED]" {
			t.Fatal(got)
		}
		if got := fmt.Sprint(statusesOf(f.register("lim-3", "frank", "starter", 99, 1))); got != "[SUCCESS_REGISTERED]" {
			t.Fatalf("another player is not limited by erin: %s", got)
		}
		f.register("stock-1", "gina", "bundle", 999, 7)
		if got := fmt.Sprint(statusesOf(f.register("stock-2", "hank", "bundle", 999, 4))); got != "[FAILED_INSUFFICIENT_INVENTORY]" {
			t.Fatal(got)
		}
		f.assertStock("bundle", 3, 7, 0)
	})
}

// A registration line naming both a productId and a guid: the guid must be
// the product's own, or, for a product the studio gave no guid, one that
// names no product (Stash generated it); never another product's.
func TestRegisterGUIDs(t *testing.T) {
	cases := []struct {
		name, productID, guid string
		cents                 int
		want                  string
	}{
		{"the product's own guid", "gem_pack", "g-gem", 199, "PURCHASE_REGISTRATION_STATUS_SUCCESS_REGISTERED"},
		{"a guid naming no product, product with a guid", "gem_pack", "5b2f3c4d-0000-5000-8000-000000000001", 199, "PURCHASE_REGISTRATION_STATUS_FAILED_INVALID_OFFER"},
		{"a guid naming no product, product without guid (Stash generated it)", "bundle", "5b2f3c4d-0000-5000-8000-000000000002", 999, "PURCHASE_REGISTRATION_STATUS_SUCCESS_REGISTERED"},
		{"another product's guid, product without guid", "bundle", "g-gem", 999, "PURCHASE_REGISTRATION_STATUS_FAILED_INVALID_OFFER"},
	}
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newFlow(t, b, 0)
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				body := fmt.Sprintf(`{"playerId":"ivy","transactionId":"guid-%d","currency":"USD","decimalPlaces":2,"registrations":[{"productId":%q,"guid":%q,"cents":%d,"quantity":1}]}`,
					i, c.productID, c.guid, c.cents)
				code, got := f.post("/api/v1/purchase/register", body)
				if code != http.StatusOK || !strings.Contains(got, `"status":"`+c.want+`"`) {
					t.Fatalf("register %s with guid %s: %d %s, want %s", c.productID, c.guid, code, got, c.want)
				}
			})
		}
		f.assertStock("bundle", 9, 1, 0)
	})
}

// A cancel replayed after a later confirm (which sold without the
// released reservation) answers as the cancel did; another cancel of the
// confirmed purchase answers ALREADY_COMPLETED.
func TestCancelReplayAfterConfirm(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newFlow(t, b, 0)
		if got := fmt.Sprint(statusesOf(f.register("cr-1", "jo", "bundle", 999, 2))); got != "[SUCCESS_REGISTERED]" {
			t.Fatal(got)
		}
		steps := []struct {
			name  string
			do    func() string
			want  string
			stock [3]int64 // available, reserved, sold after the step
		}{
			{"cancel", func() string { return string(f.cancel("cr-1", "jo", "bundle", 999, 2).Status) }, string(stashapi.CancellationCancelled), [3]int64{10, 0, 0}},
			{"confirm sells from stock", func() string {
				code, body := f.confirm("cr-1", "jo", "", "bundle", 999, 2)
				return fmt.Sprint(code, strings.Contains(body, `"results"`))
			}, "200 true", [3]int64{8, 0, 2}},
			{"the same cancel again", func() string { return string(f.cancel("cr-1", "jo", "bundle", 999, 2).Status) }, string(stashapi.CancellationCancelled), [3]int64{8, 0, 2}},
			{"a cancel with other items", func() string { return string(f.cancel("cr-1", "jo", "bundle", 999, 1).Status) }, string(stashapi.CancellationAlreadyCompleted), [3]int64{8, 0, 2}},
		}
		for _, st := range steps {
			if got := st.do(); got != st.want {
				t.Fatalf("%s: %s, want %s", st.name, got, st.want)
			}
			f.assertStock("bundle", st.stock[0], st.stock[1], st.stock[2])
		}
	})
}

func TestMalformedAndUnsignedCalls(t *testing.T) {
	f := newFlow(t, ddbtest.Backend{Name: "minidyn"}, 0)
	valid := registerBody("m-1", "ivy", "gem_pack", 199, 1)
	send := func(path, body string, headers map[string]string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		f.router.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	now := f.clock.Now()
	cases := []struct {
		name    string
		path    string
		body    string
		headers map[string]string
		code    int
		rpc     int
	}{
		{"no signature", "/api/v1/purchase/register", valid, nil, 401, 16},
		{"stale signature", "/api/v1/purchase/register", valid, map[string]string{auth.HeaderStashSignature: auth.SignStashV1([]byte(egressKey), "s", now.Add(-6*time.Minute), []byte(valid))}, 401, 16},
		{"future signature", "/api/v1/purchase/confirm", valid, map[string]string{auth.HeaderStashSignature: auth.SignStashV1([]byte(egressKey), "s", now.Add(6*time.Minute), []byte(valid))}, 401, 16},
		{"wrong key", "/api/v1/purchase/cancel", valid, map[string]string{auth.HeaderStashSignature: auth.SignStashV1([]byte("other"), "s", now, []byte(valid))}, 401, 16},
		{"malformed header", "/api/v1/purchase/register", valid, map[string]string{auth.HeaderStashSignature: "v1;s;abc;xyz"}, 401, 16},
		{"legacy signature", "/api/v1/purchase/register", valid, map[string]string{auth.HeaderStashLegacySignature: auth.SignStashLegacy([]byte(egressKey), []byte(valid))}, 200, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := send(c.path, c.body, c.headers)
			if code != c.code || (c.rpc != 0 && !strings.Contains(body, fmt.Sprintf(`"code":%d`, c.rpc))) {
				t.Fatalf("%d %s, want %d code %d", code, body, c.code, c.rpc)
			}
		})
	}
	for _, c := range []struct{ name, path, body, msg string }{
		{"not json", "/api/v1/purchase/register", "{", "malformed JSON"},
		{"missing playerId", "/api/v1/purchase/register", `{"transactionId":"t","currency":"USD","decimalPlaces":2,"registrations":[{"productId":"a","cents":1,"quantity":1}]}`, `missing field \"playerId\"`},
		{"quantity as float", "/api/v1/purchase/confirm", itemsBody("confirm", "t", "p", "", "a", 1, 1)[:0] + `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"items":[{"productId":"a","quantity":1.5}]}`, `items[0].quantity`},
		{"bad currency", "/api/v1/purchase/cancel", `{"playerId":"p","transactionId":"t","currency":"US","decimalPlaces":2,"items":[{"productId":"a","quantity":1}]}`, "ISO 4217"},
		{"no items", "/api/v1/purchase/cancel", `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"items":[]}`, "at least one"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, body := f.post(c.path, c.body)
			if code != 400 || !strings.Contains(body, `"code":3`) || !strings.Contains(body, c.msg) {
				t.Fatalf("%d %s, want 400 code 3 with %q", code, body, c.msg)
			}
		})
	}
	f.assertStock("bundle", 10, 0, 0)
}

// 200 concurrent registers of a product with stock 10: exactly 10 succeed;
// confirming them sells 10 and the inventories add up to 10.
func TestConcurrentRegistersOfScarceStock(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newFlow(t, b, 0)
		const n = 200
		ok := make([]bool, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := f.register(fmt.Sprintf("c-%d", i), fmt.Sprintf("player-%d", i), "bundle", 999, 1)
				ok[i] = st[0].Status == stashapi.RegistrationRegistered
			}()
		}
		wg.Wait()
		var winners []int
		for i, won := range ok {
			if won {
				winners = append(winners, i)
			}
		}
		if len(winners) != 10 {
			t.Fatalf("%d registrations succeeded, want exactly 10", len(winners))
		}
		f.assertStock("bundle", 0, 10, 0)
		for _, i := range winners {
			if code, body := f.confirm(fmt.Sprintf("c-%d", i), fmt.Sprintf("player-%d", i), "", "bundle", 999, 1); code != 200 {
				t.Fatalf("confirm: %d %s", code, body)
			}
		}
		f.assertStock("bundle", 0, 0, 10)
		total := int64(0)
		for i := range n {
			total += f.inventory(fmt.Sprintf("player-%d", i))["bundle"]
		}
		if total != 10 {
			t.Fatalf("inventories hold %d bundles, want 10", total)
		}
	})
}

// 50 identical confirms at once: one grant, every answer 200 with the same body.
func TestConcurrentConfirmsGrantOnce(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newFlow(t, b, 0)
		f.register("cc-1", "jane", "bundle", 999, 2, "gem_pack", 199, 3)
		const n = 50
		codes := make([]int, n)
		bodies := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], bodies[i] = f.confirm("cc-1", "jane", `,"bonusItems":[{"id":"coin","quantity":10}]`, "bundle", 999, 2, "gem_pack", 199, 3)
			}()
		}
		wg.Wait()
		for i := range n {
			if codes[i] != 200 || bodies[i] != bodies[0] {
				t.Fatalf("confirm %d: %d %s", i, codes[i], bodies[i])
			}
		}
		if got := f.inventory("jane"); got["bundle"] != 2 || got["gem_pack"] != 3 || got["coin"] != 10 {
			t.Fatalf("inventory %v: granted more than once", got)
		}
		f.assertStock("bundle", 8, 0, 2)
	})
}

// A confirm racing the sweeper on an expired reservation never both sells
// and releases: whoever wins, the units are sold once and the counters add
// up.
func TestConfirmRacingSweeper(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newFlow(t, b, 0)
		sweep, err := f.stack.Job("SweeperFunction", functions.Jobs)
		if err != nil {
			t.Fatal(err)
		}
		const rounds = 10
		for r := range rounds {
			tx, player := fmt.Sprintf("race-%d", r), fmt.Sprintf("racer-%d", r)
			f.register(tx, player, "bundle", 999, 1)
			f.clock.Advance(31 * time.Minute)
			var wg sync.WaitGroup
			var code int
			var body string
			wg.Add(2)
			go func() { defer wg.Done(); code, body = f.confirm(tx, player, "", "bundle", 999, 1) }()
			go func() {
				defer wg.Done()
				if err := sweep(context.Background()); err != nil {
					t.Error(err)
				}
			}()
			wg.Wait()
			if code != 200 {
				t.Fatalf("round %d: confirm %d %s", r, code, body)
			}
			if got := f.inventory(player)["bundle"]; got != 1 {
				t.Fatalf("round %d: %s holds %d bundles, want 1", r, player, got)
			}
		}
		f.assertStock("bundle", 10-rounds, 0, rounds)
	})
}

// An unconfirmed reservation expires: the sweeper releases it through the
// cancel transaction; cancel then reports it, and a late confirm (Stash
// charged) still sells when stock allows.
func TestReservationExpiry(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newFlow(t, b, 0)
		sweep, err := f.stack.Job("SweeperFunction", functions.Jobs)
		if err != nil {
			t.Fatal(err)
		}
		f.register("exp-1", "kim", "bundle", 999, 3, "starter", 99, 1)
		f.clock.Advance(29 * time.Minute)
		if err := sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.assertStock("bundle", 7, 3, 0) // not yet
		f.clock.Advance(2 * time.Minute)
		if err := sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.assertStock("bundle", 10, 0, 0)
		if c := f.cancel("exp-1", "kim", "bundle", 999, 3, "starter", 99, 1); c.Status != stashapi.CancellationAlreadyCancelled {
			t.Fatalf("cancel after expiry: %+v", c)
		}
		// The per-player count was released too: kim may register the starter again.
		if got := fmt.Sprint(statusesOf(f.register("exp-2", "kim", "starter", 99, 1))); got != "[SUCCESS_REGISTERED]" {
			t.Fatalf("starter after expiry: %s", got)
		}
		if code, body := f.confirm("exp-1", "kim", "", "bundle", 999, 3, "starter", 99, 1); code != http.StatusConflict || !strings.Contains(body, "limit") {
			t.Fatalf("late confirm beyond the limit: %d %s", code, body)
		}
		// Without the starter, the charged bundles are sold.
		if code, body := f.confirm("exp-1", "kim", "", "bundle", 999, 3); code != http.StatusOK {
			t.Fatalf("late confirm: %d %s", code, body)
		}
		f.assertStock("bundle", 7, 0, 3)
		if got := f.inventory("kim")["bundle"]; got != 3 {
			t.Fatalf("kim holds %d bundles", got)
		}
	})
}
