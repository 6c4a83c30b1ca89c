package checkout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/stripemock"
	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

// mockURL is stripe-mock's address ("" when it is unavailable outside CI).
var mockURL string

func TestMain(m *testing.M) {
	s, err := stripemock.Start(context.Background())
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "stripe-mock is required in CI: %v\n", err)
			os.Exit(1)
		}
		os.Exit(ddbtest.Main(m))
	}
	mockURL = s.URL
	code := ddbtest.Main(m)
	s.Stop()
	os.Exit(code)
}

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

const (
	apiKey  = "sk_test_checkout_1"
	whsec   = "whsec_checkout_test"
	whsecV0 = "whsec_checkout_previous"
)

// env is a stack with the checkout as each function that serves it has it
// (under that function's role): sessions, cart, pay page, order page and
// the Stripe receiver.
type env struct {
	*ddbtest.Env
	sessions, cart, pay, order, hooks *checkout.Service
	st                                dynamo.Store
}

// withPrevious is the key source during a webhook secret roll: the
// current secret and the previous one.
type withPrevious struct{ secrets.Source }

func (w withPrevious) Values(ctx context.Context, n secrets.Name) ([]string, error) {
	v, err := w.Source.Values(ctx, n)
	if n == secrets.StripeWebhookSecret && err == nil {
		v = append(v, whsecV0)
	}
	return v, err
}

func newEnv(t *testing.T, b ddbtest.Backend, o ddbtest.StackOptions) *env {
	t.Helper()
	if o.Env == nil {
		o.Env = map[string]string{}
	}
	o.Env["CHECKOUT_STRIPE_WEBHOOK_SECRET"] = whsec
	o.Env["PUBLIC_BASE_URL"] = "https://pay.example.com"
	o.Now = func() time.Time { return now }
	e := ddbtest.NewEnv(t, b, o)
	st := dynamo.Store{DB: e.Stack.DB, Tables: e.Tables}
	admin := stores.Admin{DB: e.Stack.DB, Table: e.Tables.Stores, Now: func() time.Time { return now }}
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = fmt.Sprintf("WIN-KEY-%04d", i+1)
	}
	f := stores.File{Stores: []stores.FileStore{
		{Slug: "shop", Name: "The Shop", APIKeys: []string{apiKey}, Products: []stores.FileProduct{
			{SKU: "WIN-11-PRO", Name: "Windows 11 Pro", Prices: map[string]int64{"GBP": 2999, "USD": 3499}, Marketplace: true, LicenseKeys: keys},
			{SKU: "OFFICE", Name: "Office", Prices: map[string]int64{"GBP": 1000}, LicenseKeys: []string{"OFF-1"}},
		}},
		{Slug: "other", Name: "Other", APIKeys: []string{"sk_test_other_store_1"}},
	}}
	if _, err := admin.Import(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	open := func(fn string) *checkout.Service {
		d := e.Deps(t, fn)
		d.Secrets = withPrevious{d.Secrets}
		svc, err := checkout.Open(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	return &env{Env: e, st: st, sessions: open("CheckoutSessionFunction"), cart: open("CheckoutCartFunction"),
		pay: open("CheckoutPayFunction"), order: open("CheckoutOrderFunction"), hooks: open("StripeWebhookFunction")}
}

func reason(err error) error {
	var r *refusal.Error
	if errors.As(err, &r) {
		return r.Reason
	}
	return nil
}

// pending starts a sandbox payment of one WIN-11-PRO from a session.
// intentOf is the PaymentIntent a refund or dispute of p's order names: the
// one its payment recorded (a refund or dispute naming another is refused).
func intentOf(p checkout.Payment) string {
	if p.PSPID != "" {
		return p.PSPID
	}
	return "pi_test_" + p.OrderID
}

func (e *env) pending(t *testing.T, ref string) checkout.Payment {
	t.Helper()
	ctx := context.Background()
	s, err := e.sessions.CreateSession(ctx, checkout.SessionRequest{Store: "shop", APIKey: apiKey, Cart: map[string]int64{"WIN-11-PRO": 2},
		Currency: "GBP", ExternalReference: ref, ReturnURLSuccess: "https://shop.example/ok"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.cart.StartPayment(ctx, checkout.CartRef{Store: "shop", Token: s.Token}, checkout.Buyer{Email: "buyer@example.com", Country: "GB"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) events(t *testing.T, typ string) []outbox.Stored {
	t.Helper()
	all, err := outbox.Box{DB: e.st.DB, Table: e.st.Tables.Outbox}.List(context.Background(), dynamo.Tuple("store", "shop"), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []outbox.Stored
	for _, ev := range all {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

func (e *env) pool(t *testing.T) stores.Pool {
	t.Helper()
	p, err := stores.ReadPool(context.Background(), e.st.DB, e.st.Tables.Stores, "shop", "WIN-11-PRO")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// signed is a Stripe event signed as Stripe does (stripe-go's
// GenerateTestSignedPayload) at t with secret.
func signed(t *testing.T, id, typ string, object map[string]any, secret string, at time.Time) ([]byte, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "livemode": false, "created": at.Unix(),
		"api_version": "2025-01-27.acacia", "data": map[string]any{"object": object}})
	if err != nil {
		t.Fatal(err)
	}
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
	return body, sp.Header
}

func succeeded(p checkout.Payment, amount int64) map[string]any {
	return map[string]any{"id": "pi_test_" + p.OrderID, "object": "payment_intent", "status": "succeeded", "amount": amount,
		"amount_received": amount, "currency": "gbp", "metadata": map[string]string{checkout.MetaStore: "shop", checkout.MetaOrder: p.OrderID}}
}

// The whole sandbox path: a session, its quote with UK VAT, the payment
// started twice (one order), a declined card, a paid card: the order is
// fulfilled by the sandbox's notification, once, with the keys of the
// same allocation as licensing fulfil; DynamoDB calls counted.
func TestSandboxCheckout(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			ctx := context.Background()
			cc := &ddbcalls.Counter{}
			s, err := e.sessions.CreateSession(ddbcalls.WithCounter(ctx, cc), checkout.SessionRequest{Store: "shop", APIKey: apiKey,
				Cart: map[string]int64{"WIN-11-PRO": 2}, Currency: "gbp", Locale: "en-GB", ExternalReference: "order-1"})
			if err != nil {
				t.Fatal(err)
			}
			if got := cc.Total(); got != 5 {
				t.Errorf("session creation made %d DynamoDB calls, want 5 (rate counter, listing, key+reference, session, and the key's first use of the minute)", got)
			}
			// The key's use is recorded once a minute: the next session
			// makes the four calls of its own.
			cc = &ddbcalls.Counter{}
			if _, err := e.sessions.CreateSession(ddbcalls.WithCounter(ctx, cc), checkout.SessionRequest{Store: "shop", APIKey: apiKey,
				Cart: map[string]int64{"WIN-11-PRO": 1}, Currency: "gbp", ExternalReference: "order-other"}); err != nil {
				t.Fatal(err)
			}
			if got := cc.Total(); got != 4 {
				t.Errorf("a second session creation in the minute made %d DynamoDB calls, want 4 (rate counter, listing, key+reference, session)", got)
			}
			if !strings.HasPrefix(s.CheckoutURL, "https://pay.example.com/s/shop/cart/?token=") || len(s.Token) < 80 || !s.ExpiresAt.Equal(now.Add(24*time.Hour)) {
				t.Fatalf("session %+v", s)
			}
			cart := checkout.CartRef{Store: "shop", Token: s.Token}
			q, err := e.cart.Quote(ctx, cart, checkout.Buyer{Country: "GB"})
			if err != nil {
				t.Fatal(err)
			}
			if q.SubtotalMinor != 5998 || q.TaxMinor != 1000 || q.TotalMinor != 5998 || !q.TaxIncluded || q.TaxRate != "0.2" || q.TaxLabel != "VAT 20%" || q.Locale != "en-GB" || q.StoreName != "The Shop" {
				t.Fatalf("quote %+v", q)
			}
			buyer := checkout.Buyer{Email: "buyer@example.com", Country: "GB"}
			p, err := e.cart.StartPayment(ctx, cart, buyer)
			if err != nil {
				t.Fatal(err)
			}
			again, err := e.cart.StartPayment(ctx, cart, buyer)
			if err != nil || again.OrderID != p.OrderID || p.PSP != psp.Sandbox || p.Quote.TotalMinor != 5998 {
				t.Fatalf("payments %+v / %+v, %v", p, again, err)
			}
			if _, err := e.pay.SandboxPay(ctx, "shop", p.OrderID, "4000000000000002"); !errors.Is(reason(err), checkout.ErrDeclined) {
				t.Fatalf("declined card: %v", err)
			}
			if v, _ := e.order.Order(ctx, "shop", p.OrderID); v.Status != stores.StatusPending {
				t.Fatalf("after a decline: %+v", v)
			}
			cc = &ddbcalls.Counter{}
			if _, err := e.pay.SandboxPay(ddbcalls.WithCounter(ctx, cc), "shop", p.OrderID, "4242 4242 4242 4242"); err != nil {
				t.Fatal(err)
			}
			if got := cc.Total(); got != 7 {
				// The listing and the shards are read once per container; the
				// pool of 10 keys falls to its store's low-stock threshold (10)
				// with this sale: its shards are read afresh and product.low_stock
				// enqueued, once per crossing.
				t.Errorf("sandbox payment made %d DynamoDB calls, want 7 (payment, order, the store's listing, its pool's shards, fulfilment transaction, the low-stock crossing's read and event)", got)
			}
			if _, err := e.pay.SandboxPay(ctx, "shop", p.OrderID, "4242424242424242"); err != nil {
				t.Fatal(err)
			}
			v, err := e.order.Order(ctx, "shop", p.OrderID)
			if err != nil {
				t.Fatal(err)
			}
			if v.Status != stores.StatusFulfilled || len(v.Items) != 1 || strings.Join(v.Items[0].LicenseKeys, ",") != "WIN-KEY-0001,WIN-KEY-0002" ||
				v.ExternalReference != "order-1" || v.Locale != "en-GB" || v.TotalMinor != 5998 || v.Amounts != (tax.Amounts{SubtotalMinor: 5998, TaxMinor: 1000, TotalMinor: 5998, Included: true}) || v.TaxLabel != "VAT 20%" {
				t.Fatalf("order %+v", v)
			}
			if n := len(e.events(t, "order.fulfilled")); n != 1 {
				t.Fatalf("%d order.fulfilled events", n)
			}
			created := e.events(t, "order.created")
			var payload map[string]any
			if len(created) != 1 || json.Unmarshal(created[0].Payload, &payload) != nil || payload["event_id"] != created[0].ID ||
				payload["occurred_at"] != now.Format(time.RFC3339) || payload["external_reference"] != "order-1" {
				t.Fatalf("order.created events %+v", created)
			}
			if p := e.pool(t); p.Claimed != 2 || p.Available != 8 {
				t.Fatalf("pool %+v", p)
			}
			// The reference is paid: another session for it is refused.
			_, err = e.sessions.CreateSession(ctx, checkout.SessionRequest{Store: "shop", APIKey: apiKey, Cart: map[string]int64{"WIN-11-PRO": 1},
				Currency: "GBP", ExternalReference: "order-1"})
			if !errors.Is(reason(err), stores.ErrReferenceConflict) {
				t.Fatalf("second session for a paid reference: %v", err)
			}
		})
	}
}

// 50 concurrent deliveries of one signed payment_intent.succeeded: one
// fulfilment, one order.fulfilled event, the keys claimed once.
func TestConcurrentSucceededFulfilsOnce(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			p := e.pending(t, "")
			body, sig := signed(t, "evt_concurrent_1", "payment_intent.succeeded", succeeded(p, p.Quote.TotalMinor), whsec, now)
			var wg sync.WaitGroup
			var mu sync.Mutex
			outcomes := map[string]int{}
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var out string
					var err error
					for attempt := 0; attempt < 20; attempt++ { // Stripe retries a 503
						if out, err = e.hooks.ReceiveStripe(context.Background(), body, sig); err == nil {
							break
						}
					}
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						outcomes["error: "+err.Error()]++
						return
					}
					outcomes[out]++
				}()
			}
			wg.Wait()
			if outcomes[checkout.OutcomeApplied] != 1 || outcomes[checkout.OutcomeApplied]+outcomes[checkout.OutcomeDuplicate]+outcomes[checkout.OutcomeKnown] != 50 {
				t.Fatalf("outcomes %v", outcomes)
			}
			if n := len(e.events(t, "order.fulfilled")); n != 1 {
				t.Fatalf("%d order.fulfilled events", n)
			}
			if p := e.pool(t); p.Claimed != 2 || p.Available != 8 {
				t.Fatalf("pool %+v", p)
			}
		})
	}
}

// A refund, or a dispute, that arrives before the payment's success: the
// order is never fulfilled afterwards and no key is allocated.
func TestRefundOrDisputeBeforeSuccessNeverFulfils(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			for _, first := range []string{"charge.refunded", "charge.dispute.created"} {
				t.Run(first, func(t *testing.T) {
					e := newEnv(t, b, ddbtest.StackOptions{})
					p := e.pending(t, "")
					meta := map[string]string{checkout.MetaStore: "shop", checkout.MetaOrder: p.OrderID}
					obj := map[string]any{"id": "ch_1", "object": "charge", "amount": p.Quote.TotalMinor, "amount_refunded": p.Quote.TotalMinor,
						"currency": "gbp", "payment_intent": intentOf(p), "metadata": meta}
					if first != "charge.refunded" {
						obj = map[string]any{"id": "dp_1", "object": "dispute", "amount": p.Quote.TotalMinor, "currency": "gbp",
							"payment_intent": intentOf(p), "reason": "fraudulent", "status": "needs_response", "metadata": meta}
					}
					body, sig := signed(t, "evt_first", first, obj, whsec, now)
					if out, err := e.hooks.ReceiveStripe(context.Background(), body, sig); err != nil || out != checkout.OutcomeApplied {
						t.Fatalf("%s: %q, %v", first, out, err)
					}
					body, sig = signed(t, "evt_success", "payment_intent.succeeded", succeeded(p, p.Quote.TotalMinor), whsec, now)
					if out, err := e.hooks.ReceiveStripe(context.Background(), body, sig); err != nil || out != checkout.OutcomeKnown {
						t.Fatalf("success after %s: %q, %v", first, out, err)
					}
					v, err := e.order.Order(context.Background(), "shop", p.OrderID)
					if err != nil || v.Status == stores.StatusFulfilled || len(e.events(t, "order.fulfilled")) != 0 {
						t.Fatalf("order %+v, %v", v, err)
					}
					if p := e.pool(t); p.Claimed != 0 {
						t.Fatalf("pool %+v", p)
					}
				})
			}
		})
	}
}

// A refund after fulfilment marks the order refunded and its keys revoked
// (order.refunded); a dispute records its state (order.disputed); an
// unknown type is 200 "ignored" and recorded (a second delivery is a
// duplicate).
func TestRefundDisputeAndUnknownAfterFulfilment(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			ctx := context.Background()
			p := e.pending(t, "")
			if _, err := e.pay.SandboxPay(ctx, "shop", p.OrderID, "4242424242424242"); err != nil {
				t.Fatal(err)
			}
			meta := map[string]string{checkout.MetaStore: "shop", checkout.MetaOrder: p.OrderID}
			steps := []struct {
				id, typ string
				obj     map[string]any
				want    string
				status  string
			}{
				// Signed, but not about this order's payment: recorded, nothing changes.
				{"evt_over", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "amount_refunded": 99999, "currency": "gbp", "payment_intent": intentOf(p), "metadata": meta}, checkout.OutcomeMismatch, stores.StatusFulfilled},
				{"evt_other_pi", "charge.refunded", map[string]any{"id": "ch_9", "object": "charge", "amount_refunded": 100, "currency": "gbp", "payment_intent": "pi_someone_else", "metadata": meta}, checkout.OutcomeMismatch, stores.StatusFulfilled},
				{"evt_eur", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "amount_refunded": 100, "currency": "eur", "payment_intent": intentOf(p), "metadata": meta}, checkout.OutcomeMismatch, stores.StatusFulfilled},
				{"evt_over", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "amount_refunded": 99999, "currency": "gbp", "payment_intent": intentOf(p), "metadata": meta}, checkout.OutcomeDuplicate, stores.StatusFulfilled},
				{"evt_r1", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "amount_refunded": 1000, "currency": "gbp", "payment_intent": intentOf(p), "metadata": meta}, checkout.OutcomeApplied, stores.StatusPartiallyRefunded},
				{"evt_r1", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "amount_refunded": 1000, "currency": "gbp", "payment_intent": intentOf(p), "metadata": meta}, checkout.OutcomeDuplicate, stores.StatusPartiallyRefunded},
				{"evt_r2", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "amount_refunded": p.Quote.TotalMinor, "currency": "gbp", "payment_intent": intentOf(p), "metadata": meta}, checkout.OutcomeApplied, stores.StatusRefunded},
				{"evt_d1", "charge.dispute.updated", map[string]any{"id": "dp_1", "object": "dispute", "amount": 100, "currency": "gbp", "payment_intent": intentOf(p), "status": "under_review", "metadata": meta}, checkout.OutcomeApplied, stores.StatusRefunded},
				{"evt_d2", "charge.dispute.funds_withdrawn", map[string]any{"id": "dp_1", "object": "dispute", "amount": 100, "currency": "gbp", "payment_intent": intentOf(p), "status": "under_review", "metadata": meta}, checkout.OutcomeKnown, stores.StatusRefunded},
				{"evt_d3", "charge.dispute.closed", map[string]any{"id": "dp_1", "object": "dispute", "amount": 100, "currency": "gbp", "payment_intent": intentOf(p), "status": "won", "metadata": meta}, checkout.OutcomeApplied, stores.StatusRefunded},
				{"evt_u1", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}, checkout.OutcomeIgnored, stores.StatusRefunded},
				{"evt_u1", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}, checkout.OutcomeDuplicate, stores.StatusRefunded},
			}
			for _, s := range steps {
				body, sig := signed(t, s.id, s.typ, s.obj, whsec, now)
				out, err := e.hooks.ReceiveStripe(ctx, body, sig)
				if err != nil || out != s.want {
					t.Fatalf("%s %s: %q, %v; want %q", s.id, s.typ, out, err, s.want)
				}
				v, err := e.order.Order(ctx, "shop", p.OrderID)
				if err != nil || v.Status != s.status {
					t.Fatalf("after %s: %+v, %v", s.id, v, err)
				}
				if v.Status == stores.StatusRefunded && len(v.Items[0].LicenseKeys) != 0 {
					t.Fatalf("a refunded order shows its revoked keys: %+v", v)
				}
			}
			if r, d := len(e.events(t, "order.refunded")), len(e.events(t, "order.disputed")); r != 2 || d != 2 {
				t.Fatalf("%d order.refunded and %d order.disputed events", r, d)
			}
			// Every event of the order is in the order's sequence, so the
			// store receives them in the order they happened.
			for _, typ := range []string{"order.created", "order.fulfilled", "order.refunded", "order.disputed"} {
				for _, ev := range e.events(t, typ) {
					if ev.OrderingKey != stores.OrderingKey("shop", p.OrderID) {
						t.Fatalf("%s %s has ordering key %q", typ, ev.ID, ev.OrderingKey)
					}
				}
			}
		})
	}
}

// Stripe signature known answers: a signature made by stripe-go's
// GenerateTestSignedPayload verifies; with the previous secret of a roll
// too; a header with several v1 (Stripe's own roll) verifies when one
// matches; a stale, future, wrong or missing signature is
// ErrBadNotification and records nothing.
func TestStripeSignatures(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	e := newEnv(t, b, ddbtest.StackOptions{})
	ctx := context.Background()
	p := e.pending(t, "")
	obj := succeeded(p, p.Quote.TotalMinor)
	good, goodSig := signed(t, "evt_sig_ok", "payment_intent.succeeded", obj, whsec, now.Add(-4*time.Minute))
	bad := []struct {
		name string
		sig  func() ([]byte, string)
	}{
		{"stale", func() ([]byte, string) {
			return signed(t, "evt_sig_1", "payment_intent.succeeded", obj, whsec, now.Add(-301*time.Second))
		}},
		{"future", func() ([]byte, string) {
			return signed(t, "evt_sig_2", "payment_intent.succeeded", obj, whsec, now.Add(301*time.Second))
		}},
		{"wrong secret", func() ([]byte, string) {
			return signed(t, "evt_sig_3", "payment_intent.succeeded", obj, "whsec_other", now)
		}},
		{"missing", func() ([]byte, string) {
			b, _ := signed(t, "evt_sig_4", "payment_intent.succeeded", obj, whsec, now)
			return b, ""
		}},
		{"tampered", func() ([]byte, string) {
			b, s := signed(t, "evt_sig_5", "payment_intent.succeeded", obj, whsec, now)
			return []byte(strings.Replace(string(b), `"amount":5998`, `"amount":1`, 1)), s
		}},
	}
	for _, c := range bad {
		body, sig := c.sig()
		if _, err := e.hooks.ReceiveStripe(ctx, body, sig); !errors.Is(reason(err), checkout.ErrBadNotification) {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	if v, _ := e.order.Order(ctx, "shop", p.OrderID); v.Status != stores.StatusPending {
		t.Fatalf("a refused event changed the order: %+v", v)
	}
	_, oldSig := signed(t, "evt_sig_ok", "payment_intent.succeeded", obj, whsecV0, now.Add(-4*time.Minute))
	twoV1 := goodSig + "," + strings.Split(oldSig, ",")[1]
	bogusFirst := strings.Replace(goodSig, "v1=", "v1="+strings.Repeat("0", 64)+",v1=", 1)
	for name, sig := range map[string]string{"previous secret": oldSig, "two v1": twoV1, "a bad v1 first": bogusFirst, "current": goodSig} {
		if out, err := e.hooks.ReceiveStripe(ctx, good, sig); err != nil || (out != checkout.OutcomeApplied && out != checkout.OutcomeDuplicate) {
			t.Fatalf("%s: %q, %v", name, out, err)
		}
	}
	if v, _ := e.order.Order(ctx, "shop", p.OrderID); v.Status != stores.StatusFulfilled {
		t.Fatalf("order %+v", v)
	}
}

// With the platform's Stripe keys the payment is a PaymentIntent (through
// stripe-go to stripe-mock) for exactly the quoted total, created once per
// order; a refund that names only the PaymentIntent (no metadata) finds
// the order through the lookup row, and arrives before the success: the
// order is refunded and never fulfilled.
func TestStripePaymentAndLookup(t *testing.T) {
	stripemock.Require(t, mockURL)
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{Env: map[string]string{"CHECKOUT_STRIPE_SECRET_KEY": "sk_test_platform",
				"CHECKOUT_STRIPE_PUBLISHABLE_KEY": "pk_test_platform", "STRIPE_API_BASE": mockURL}})
			p := e.pending(t, "")
			if p.PSP != psp.Stripe || p.ClientSecret == "" || p.PublishableKey != "pk_test_platform" || !strings.HasPrefix(p.PSPID, "pi_") {
				t.Fatalf("payment %+v", p)
			}
			again := e.pending(t, "")
			if again.OrderID == p.OrderID {
				t.Fatal("two sessions made one order")
			}
			ctx := context.Background()
			if _, err := e.pay.SandboxPay(ctx, "shop", p.OrderID, "4242424242424242"); !errors.Is(reason(err), checkout.ErrInvalid) {
				t.Fatalf("sandbox pay of a Stripe payment: %v", err)
			}
			body, sig := signed(t, "evt_refund_first", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge",
				"amount_refunded": again.Quote.TotalMinor, "currency": "gbp", "payment_intent": again.PSPID}, whsec, now)
			if out, err := e.hooks.ReceiveStripe(ctx, body, sig); err != nil || out != checkout.OutcomeApplied {
				t.Fatalf("refund by lookup: %q, %v", out, err)
			}
			body, sig = signed(t, "evt_success_late", "payment_intent.succeeded", succeeded(again, again.Quote.TotalMinor), whsec, now)
			if out, err := e.hooks.ReceiveStripe(ctx, body, sig); err != nil || out != checkout.OutcomeKnown {
				t.Fatalf("late success: %q, %v", out, err)
			}
			if v, _ := e.order.Order(ctx, "shop", again.OrderID); v.Status != stores.StatusRefunded {
				t.Fatalf("order %+v", v)
			}
			// A success for less than the order's total never fulfils.
			body, sig = signed(t, "evt_short", "payment_intent.succeeded", succeeded(p, p.Quote.TotalMinor-1), whsec, now)
			if out, err := e.hooks.ReceiveStripe(ctx, body, sig); err != nil || out != checkout.OutcomeAmountMismatch {
				t.Fatalf("short payment: %q, %v", out, err)
			}
			if v, _ := e.order.Order(ctx, "shop", p.OrderID); v.Status != stores.StatusPending {
				t.Fatalf("order %+v", v)
			}
		})
	}
}

// A cookie cart (an add-to-cart link, or /market/) is an order per
// purchase: the same cart and buyer again while it is pending is the same
// order; once paid, the next purchase is a new order. Its source is
// recorded. The order is its browser's: the same cart and buyer with
// another browser's secret is another order, and without a secret none is
// placed.
func TestCookieCartOrders(t *testing.T) {
	e := newEnv(t, ddbtest.Backends(t)[0], ddbtest.StackOptions{})
	ctx := context.Background()
	cart := checkout.CartRef{Store: "shop", Lines: []checkout.Line{{SKU: "WIN-11-PRO", Quantity: 1}, {SKU: "WIN-11-PRO", Quantity: 1}, {SKU: "NOPE", Quantity: 1}},
		Currency: "GBP", Source: stores.SourceMarketplace, Secret: "browser-one-secret-0001"}
	buyer := checkout.Buyer{Email: "buyer@example.com", Country: "US", Subdivision: "CA"}
	q, err := e.cart.Quote(ctx, cart, buyer)
	if err != nil || len(q.Problems) != 1 || len(q.Lines) != 1 || q.Lines[0].Quantity != 2 || q.NeedsSubdivision || q.TaxRate.IsZero() {
		t.Fatalf("quote %+v, %v", q, err)
	}
	if _, err := e.cart.StartPayment(ctx, cart, buyer); !errors.Is(reason(err), checkout.ErrInvalid) {
		t.Fatalf("a cart with problems: %v", err)
	}
	cart.Lines = cart.Lines[:2]
	if _, err := e.cart.StartPayment(ctx, cart, checkout.Buyer{Email: "buyer@example.com", Country: "US"}); !errors.Is(reason(err), checkout.ErrInvalid) {
		t.Fatalf("a US buyer without a state: %v", err)
	}
	first, err := e.cart.StartPayment(ctx, cart, buyer)
	if err != nil {
		t.Fatal(err)
	}
	same, err := e.cart.StartPayment(ctx, cart, buyer)
	if err != nil || same.OrderID != first.OrderID || first.Quote.TotalMinor != q.TotalMinor {
		t.Fatalf("again while pending: %+v, %v", same, err)
	}
	other := cart
	other.Secret = "browser-two-secret-0002"
	if o, err := e.cart.StartPayment(ctx, other, buyer); err != nil || o.OrderID == first.OrderID {
		t.Fatalf("another browser's cart and the same buyer: %+v, %v; want an order of its own", o, err)
	}
	for _, secret := range []string{"", "short"} {
		other.Secret = secret
		if o, err := e.cart.StartPayment(ctx, other, buyer); err == nil {
			t.Fatalf("a cookie cart with secret %q placed order %s", secret, o.OrderID)
		}
	}
	if _, err := e.pay.SandboxPay(ctx, "shop", first.OrderID, "4242424242424242"); err != nil {
		t.Fatal(err)
	}
	next, err := e.cart.StartPayment(ctx, cart, buyer)
	if err != nil || next.OrderID == first.OrderID {
		t.Fatalf("after payment: %+v, %v", next, err)
	}
	o, found, err := stores.GetOrder(ctx, e.st, "shop", first.OrderID)
	if err != nil || !found || o.Source != stores.SourceMarketplace || o.Status != stores.StatusFulfilled {
		t.Fatalf("order %+v", o)
	}
}

// Where the sandbox is off (prod) and no Stripe key is set, nothing can be
// paid: starting a payment is ErrNoPSP (the page's 503), never a sandbox
// payment, and an order placed while the sandbox was on is not paid by it.
func TestSandboxOffWithoutStripe(t *testing.T) {
	on := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{})
	p := on.pending(t, "")
	off := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Env: map[string]string{"CHECKOUT_SANDBOX": "false"}})
	ctx := context.Background()
	s, err := off.sessions.CreateSession(ctx, checkout.SessionRequest{Store: "shop", APIKey: apiKey, Cart: map[string]int64{"WIN-11-PRO": 1}, Currency: "GBP"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := off.cart.StartPayment(ctx, checkout.CartRef{Store: "shop", Token: s.Token}, checkout.Buyer{Email: "buyer@example.com", Country: "GB"}); !errors.Is(err, checkout.ErrNoPSP) {
		t.Fatalf("StartPayment with the sandbox off and no Stripe key: %v, want ErrNoPSP", err)
	}
	// The same deployment's tables, now with the sandbox off.
	offSvc, err := checkout.Open(ctx, func() deps.Deps {
		d := on.Deps(t, "CheckoutPayFunction")
		getenv := d.Getenv
		d.Getenv = func(k string) string {
			if k == "CHECKOUT_SANDBOX" {
				return "false"
			}
			return getenv(k)
		}
		return d
	}())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := offSvc.SandboxPay(ctx, "shop", p.OrderID, "4242424242424242"); !errors.Is(err, checkout.ErrNoPSP) {
		t.Fatalf("SandboxPay with the sandbox off: %v, want ErrNoPSP", err)
	}
	if v, err := offSvc.Order(ctx, "shop", p.OrderID); err != nil || v.Status != stores.StatusPending {
		t.Fatalf("order after a refused sandbox payment: %+v, %v", v, err)
	}
}

// A session is paid once: after its order's payment succeeded, a buyer who
// comes back with other details (another order of the same cart) is
// refused before anything is charged; the paying buyer's own order is
// still answered. The same holds for a payment through Stripe's metadata.
func TestSessionPaidOnce(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			ctx := context.Background()
			s, err := e.sessions.CreateSession(ctx, checkout.SessionRequest{Store: "shop", APIKey: apiKey, Cart: map[string]int64{"WIN-11-PRO": 1}, Currency: "GBP"})
			if err != nil {
				t.Fatal(err)
			}
			cart := checkout.CartRef{Store: "shop", Token: s.Token}
			first := checkout.Buyer{Email: "first@example.com", Country: "GB"}
			p, err := e.cart.StartPayment(ctx, cart, first)
			if err != nil {
				t.Fatal(err)
			}
			// Before the payment, another buyer may still start their own.
			if _, err := e.cart.StartPayment(ctx, cart, checkout.Buyer{Email: "before@example.com", Country: "IE"}); err != nil {
				t.Fatalf("a second buyer before any payment: %v", err)
			}
			if _, err := e.pay.SandboxPay(ctx, "shop", p.OrderID, "4242424242424242"); err != nil {
				t.Fatal(err)
			}
			_, err = e.cart.StartPayment(ctx, cart, checkout.Buyer{Email: "other@example.com", Country: "DE"})
			if !errors.Is(err, checkout.ErrSessionPaid) || !strings.Contains(err.Error(), p.OrderID) {
				t.Fatalf("another buyer after the session was paid: %v, want ErrSessionPaid naming %s", err, p.OrderID)
			}
			again, err := e.cart.StartPayment(ctx, cart, first)
			if err != nil || again.OrderID != p.OrderID {
				t.Fatalf("the paying buyer again: %+v, %v", again, err)
			}
			if n := len(e.events(t, "order.fulfilled")); n != 1 {
				t.Fatalf("%d order.fulfilled events, want 1", n)
			}
		})
	}
}
