package functions_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/logtest"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
)

// TestCheckoutPagesRoundTrips asserts how many DynamoDB calls each step of
// a hosted purchase makes, as the wire sees them (ddbtest.Transport) and
// as the page function's access log line reports them ("dynamodbCalls"):
// both must equal the promise, on each emulator.
func TestCheckoutPagesRoundTrips(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			logs := &logtest.Buffer{}
			tr := ddbtest.NewTransport()
			// The store's pool of four keys is under the low-stock threshold
			// from the first sale: the crossing's announcement (a fresh read
			// of the shards and the event, once per pool size) is left out
			// of the per-request table.
			quiet := bytes.Replace(hostileStores, []byte(`"supportEmail": "support@my-store.example",`),
				[]byte(`"supportEmail": "support@my-store.example", "lowStockThreshold": 0,`), 1)
			site := newPagesSiteOf(t, b, tr, deps.NewLogger(logs, "info"), quiet)
			c := browserClient(t)
			var table strings.Builder
			step := func(name, method, target string, form url.Values, status, want int, why string) page {
				t.Helper()
				logs.Take()
				tr.Reset()
				p := fetch(t, c, method, target, form)
				expectPage(t, p, status)
				wire := len(tr.Calls())
				logged := -1
				for _, line := range accessLines(logs.TakeLines(t)) {
					if n, ok := line["dynamodbCalls"].(float64); ok {
						logged = int(n)
					}
				}
				fmt.Fprintf(&table, "%-34s %3d  %s\n", name, wire, why)
				if wire != want || logged != want {
					t.Errorf("%s: %d DynamoDB calls on the wire, %d in the access log; want %d (%s): %v", name, wire, logged, want, why, tr.Calls())
				}
				return p
			}
			token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP"}`)
			cart := step("cart (session)", http.MethodGet, checkoutURL, nil, 200, 2, "store listing, session")
			p := step("cart form: start the payment", http.MethodPost, site.URL+"/s/my-store/cart/",
				url.Values{"token": {token}, "email": {"rt@example.com"}, "country": {"GB"}, "csrf": {csrfOf(t, cart)}}, 303, 5,
				"listing, session, payment record (none), TransactWriteItems order + order.created + intent, TransactWriteItems the PSP's answer + lookup row")
			payURL := site.URL + p.Header.Get("Location")
			payPage := step("pay page", http.MethodGet, payURL, nil, 200, 2, "payment record, order")
			hidden := url.Values{"csrf": {csrfOf(t, payPage)}, "card": {"4242424242424242"}}
			for _, m := range hiddenRE.FindAllStringSubmatch(payPage.Body, -1) {
				hidden.Set(m[1], m[2])
			}
			u, _ := url.Parse(payURL)
			p = step("pay (sandbox card)", http.MethodPost, site.URL+u.Path, hidden, 303, 5,
				"payment record, order, store listing and its pools' shards (once per container), TransactWriteItems fulfilment (order and its claims, shard cursors, order.fulfilled, session paid)")
			step("order page (fulfilled)", http.MethodGet, site.URL+p.Header.Get("Location"), nil, 200, 3, "payment record, order (with its claims), BatchGetItem of the claimed keys")
			step("/market/", http.MethodGet, site.URL+"/market/", nil, 200, 2, "Query of the sparse market index, BatchGetItem of the stores' names")
			step("add-to-cart link", http.MethodGet, site.URL+"/s/my-store/cart/?add=WIN-11-PRO&currency=GBP", nil, 303, 0, "the cookie only")
			cookieCart := step("cart (cookie)", http.MethodGet, site.URL+"/s/my-store/cart/", nil, 200, 1, "store listing")
			step("cart edit", http.MethodPost, site.URL+"/s/my-store/cart/",
				url.Values{"edit": {"1"}, "qty.WIN-11-PRO": {"2"}, "csrf": {csrfOf(t, cookieCart)}}, 303, 0, "the cookie only")
			t.Log("DynamoDB calls per checkout page request:\n" + table.String())
		})
	}
}
