package functions_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

// paidOrder is a checkout order of my-store paid with the sandbox's test
// card (the checkout's functions, as a buyer's pages call them).
func (s *portalSite) paidOrder(t *testing.T, email string) string {
	t.Helper()
	ctx := context.Background()
	open := func(fn string) *checkout.Service {
		svc, err := checkout.Open(ctx, s.env.Deps(t, fn))
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	sess, err := open("CheckoutSessionFunction").CreateSession(ctx, checkout.SessionRequest{Store: "my-store", APIKey: "sk_test_local_only_1",
		Cart: map[string]int64{"WIN-11-PRO": 1}, Currency: "GBP"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := open("CheckoutCartFunction").StartPayment(ctx, checkout.CartRef{Store: "my-store", Token: sess.Token}, checkout.Buyer{Email: email, Country: "GB"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open("CheckoutPayFunction").SandboxPay(ctx, "my-store", p.OrderID, "4242424242424242"); err != nil {
		t.Fatal(err)
	}
	return p.OrderID
}

func expectPortalPage(t *testing.T, what string, p page, status int, has ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("%s: %d, want %d\n%s", what, p.Status, status, p.Body)
	}
	for _, h := range has {
		if !strings.Contains(p.Body, h) {
			t.Fatalf("%s: no %q in\n%s", what, h, p.Body)
		}
	}
}

// A support member through the local API Gateway: the overview, the order
// list (filters, search, a bad filter), the order's detail, Refund asked,
// confirmed, pressed again; a refund after the sign-in is 10 minutes old
// asks for a new one; a developer cannot refund; another store's order and
// an unknown one are 404. Webhooks: a dead event listed and replayed.
func TestPortalOrdersPages(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	s := newPortalSite(t, b, ddbtest.StackOptions{})
	first := s.paidOrder(t, "buyer@example.com")
	second := s.paidOrder(t, "other-buyer@example.com")
	support := s.signedInMember(t, "my-store", "support@my-store.test", portal.RoleSupport)
	base := "/portal/stores/my-store/"

	expectPortalPage(t, "overview", support.get(base+"overview/"), http.StatusOK, `id="sales"`, `id="pools"`, "WIN-11-PRO")
	expectPortalPage(t, "orders", support.get(base+"orders/"), http.StatusOK, first, second)
	expectPortalPage(t, "orders by status", support.get(base+"orders/?status=refunded"), http.StatusOK, `id="no-orders"`)
	expectPortalPage(t, "a bad filter", support.get(base+"orders/?status=paid"), http.StatusBadRequest)
	expectPortalPage(t, "a bad date", support.get(base+"orders/?from=30%2F11%2F2026"), http.StatusBadRequest)
	expectPortalPage(t, "a forged cursor", support.get(base+"orders/?cursor=xyz"), http.StatusBadRequest)
	if p := support.get(base + "orders/?q=" + url.QueryEscape("Other-Buyer@example.com")); !strings.Contains(p.Body, second) || strings.Contains(p.Body, first) {
		t.Fatalf("search by buyer:\n%s", p.Body)
	}
	expectPortalPage(t, "search by id", support.get(base+"orders/?q="+first), http.StatusOK, first)
	expectPortalPage(t, "detail", support.get(base+"orders/"+first+"/"), http.StatusOK, `id="refund-ask"`, `id="psp-payment"`, "order.fulfilled", `class="key"`)
	expectPortalPage(t, "refund asked", support.post(base+"orders/"+first+"/", url.Values{"action": {"refund"}}), http.StatusOK, `id="refund-yes"`)
	p := support.post(base+"orders/"+first+"/", url.Values{"action": {"refund"}, "confirm": {"yes"}})
	if p.Status != http.StatusSeeOther || !strings.HasSuffix(p.Header.Get("Location"), "?done=refunded") {
		t.Fatalf("refund: %d %s\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}
	expectPortalPage(t, "refunded", support.get(base+"orders/"+first+"/?done=refunded"), http.StatusOK, `id="flash"`, "refunded", "order.refunded", `id="psp-refund"`)
	if p := support.post(base+"orders/"+first+"/", url.Values{"action": {"refund"}, "confirm": {"yes"}}); p.Status != http.StatusSeeOther ||
		!strings.HasSuffix(p.Header.Get("Location"), "?done=already") {
		t.Fatalf("refund pressed again: %d %s", p.Status, p.Header.Get("Location"))
	}

	dev := s.signedInMember(t, "my-store", "dev@my-store.test", portal.RoleDeveloper)
	dev.get(base + "orders/" + second + "/")
	expectPortalPage(t, "a developer's refund", dev.post(base+"orders/"+second+"/", url.Values{"action": {"refund"}, "confirm": {"yes"}}), http.StatusForbidden)
	expectPortalPage(t, "another store's order", support.get("/portal/stores/evil-store/orders/"+second+"/"), http.StatusNotFound)
	expectPortalPage(t, "an unknown order", support.get(base+"orders/ORD-000000000000/"), http.StatusNotFound)
	expectPortalPage(t, "not an order id", support.get(base+"orders/%3Cscript%3E/"), http.StatusNotFound)

	s.clock.Add(int64(11 * time.Minute))
	support.get(base + "orders/" + second + "/")
	expectPortalPage(t, "a refund 11 minutes after sign-in", support.post(base+"orders/"+second+"/", url.Values{"action": {"refund"}, "confirm": {"yes"}}), http.StatusForbidden)
	expectPortalPage(t, "not refunded", support.get(base+"orders/"+second+"/"), http.StatusOK, `id="refund-ask"`)

	// A dead event: listed, replayed with the rest.
	box := outbox.Box{DB: s.env.Stack.DB, Table: s.env.Tables.Outbox}
	evs, err := box.Recent(context.Background(), dynamo.Tuple("store", "my-store"), "", 1, 0, s.now())
	if err != nil || len(evs.Events) != 1 {
		t.Fatal(evs, err)
	}
	c, ok, err := box.Claim(context.Background(), evs.Events[0].ID, s.now().Add(time.Hour), time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, err := box.Dead(context.Background(), c, s.now(), "410 Gone"); err != nil {
		t.Fatal(err)
	}
	expectPortalPage(t, "webhooks", support.get(base+"webhooks/"), http.StatusOK, `id="failed"`, "410 Gone", `id="deliveries"`, "order.refunded")
	expectPortalPage(t, "overview with a failed event", support.get(base+"overview/"), http.StatusOK, "1 failed events")
	if p := support.post(base+"webhooks/", url.Values{"action": {"replay-all"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("replay all: %d\n%s", p.Status, p.Body)
	}
	expectPortalPage(t, "webhooks after the replay", support.get(base+"webhooks/?done=replay-all"), http.StatusOK, `id="no-failed"`, `id="flash"`)
	expectPortalPage(t, "replay of another store's event", support.post(base+"webhooks/", url.Values{"action": {"replay"}, "event": {"store:evil-store:x"}}), http.StatusNotFound)
}
