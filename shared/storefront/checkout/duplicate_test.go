package checkout_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/stripemock"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// twoOrders starts two orders of one session (one WIN-11-PRO): two buyers'
// details each taken to the payment before either paid, or one buyer in
// two tabs. It answers the session's id too (the token's first part).
func (e *env) twoOrders(t *testing.T) (a, b checkout.Payment, session string) {
	t.Helper()
	ctx := context.Background()
	s, err := e.sessions.CreateSession(ctx, checkout.SessionRequest{Store: "shop", APIKey: apiKey, Cart: map[string]int64{"WIN-11-PRO": 1}, Currency: "GBP"})
	if err != nil {
		t.Fatal(err)
	}
	cart := checkout.CartRef{Store: "shop", Token: s.Token}
	if a, err = e.cart.StartPayment(ctx, cart, checkout.Buyer{Email: "first@example.com", Country: "GB"}); err != nil {
		t.Fatal(err)
	}
	if b, err = e.cart.StartPayment(ctx, cart, checkout.Buyer{Email: "second@example.com", Country: "GB"}); err != nil {
		t.Fatal(err)
	}
	if a.OrderID == b.OrderID {
		t.Fatal("two buyers made one order")
	}
	session, _, _ = strings.Cut(s.Token, ".")
	return a, b, session
}

// eventsOf counts the store's events of type typ about order id.
func (e *env) eventsOf(t *testing.T, typ, id string) int {
	t.Helper()
	n := 0
	for _, ev := range e.events(t, typ) {
		if strings.Contains(ev.ID, id) {
			n++
		}
	}
	return n
}

// expectOneSale checks the end state of a session paid twice: order paid
// fulfilled once, order dup refunded in full naming paid, never fulfilled,
// and one key claimed in all.
func (e *env) expectOneSale(t *testing.T, paid, dup checkout.Payment) {
	t.Helper()
	ctx := context.Background()
	v, err := e.order.Order(ctx, "shop", paid.OrderID)
	if err != nil || v.Status != stores.StatusFulfilled || len(v.Items[0].LicenseKeys) != 1 || v.DuplicateOf != "" {
		t.Fatalf("the paying order: %+v, %v", v, err)
	}
	d, err := e.order.Order(ctx, "shop", dup.OrderID)
	if err != nil || d.Status != stores.StatusRefunded || d.DuplicateOf != paid.OrderID || len(d.Items[0].LicenseKeys) != 0 {
		t.Fatalf("the second payment's order: %+v, %v; want refunded, naming %s", d, err, paid.OrderID)
	}
	for _, c := range []struct {
		typ, id string
		want    int
	}{
		{"order.fulfilled", paid.OrderID, 1}, {"order.fulfilled", dup.OrderID, 0},
		{"order.refunded", dup.OrderID, 1}, {"order.refunded", paid.OrderID, 0},
	} {
		if n := e.eventsOf(t, c.typ, c.id); n != c.want {
			t.Fatalf("%d %s events of %s, want %d", n, c.typ, c.id, c.want)
		}
	}
	if p := e.pool(t); p.Claimed != 1 || p.Available != 9 {
		t.Fatalf("pool %+v, want one key claimed", p)
	}
}

// A session paid a second time (another order of it, paid after the
// first): the second payment is refunded through the PSP, its order is
// refunded and never fulfilled, and paying it again changes nothing.
// DynamoDB calls of the duplicate's path counted.
func TestSecondPaymentOfASessionIsRefunded(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			ctx := context.Background()
			first, second, _ := e.twoOrders(t)
			if _, err := e.pay.SandboxPay(ctx, "shop", first.OrderID, "4242424242424242"); err != nil {
				t.Fatal(err)
			}
			e.Transport.Reset()
			if _, err := e.pay.SandboxPay(ctx, "shop", second.OrderID, "4242424242424242"); err != nil {
				t.Fatalf("the second payment: %v", err)
			}
			// The payment record, the order, the fulfilment (cancelled by
			// the session's condition, which returns the session naming the
			// order that paid it), the refund's intent, and its result with
			// the event and the order.
			if calls := e.Transport.Calls(); len(calls) != 5 {
				t.Fatalf("%d DynamoDB calls for a duplicate payment, want 5: %v", len(calls), calls)
			}
			if _, err := e.pay.SandboxPay(ctx, "shop", second.OrderID, "4242424242424242"); err != nil {
				t.Fatalf("the second payment again: %v", err)
			}
			e.expectOneSale(t, first, second)
		})
	}
}

// Two orders of one session paid at the same moment, each payment's
// notification delivered ten times concurrently: one order is fulfilled,
// the other refunded, whichever wins.
func TestConcurrentPaymentsOfOneSession(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			a, c, _ := e.twoOrders(t)
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for i := range 20 {
				order := []string{a.OrderID, c.OrderID}[i%2]
				wg.Add(1)
				go func() {
					defer wg.Done()
					var err error
					for attempt := 0; attempt < 20; attempt++ { // a retried notification
						if _, err = e.pay.SandboxPay(context.Background(), "shop", order, "4242424242424242"); err == nil {
							return
						}
					}
					errs <- fmt.Errorf("order %s: %w", order, err)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			v, err := e.order.Order(context.Background(), "shop", a.OrderID)
			if err != nil {
				t.Fatal(err)
			}
			if v.Status == stores.StatusFulfilled {
				e.expectOneSale(t, a, c)
			} else {
				e.expectOneSale(t, c, a)
			}
		})
	}
}

// A DynamoDB fault at every call of a duplicate payment's path: the
// notification's retry converges on one refund (one idempotency key, so
// one at the PSP) and one order.refunded event, the first order untouched.
func TestDuplicateRefundFaultSweep(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			// run answers the DynamoDB calls of the faulted payment.
			run := func(t *testing.T, inject func(call int, op string) ddbtest.Fault) []string {
				e := newEnv(t, b, ddbtest.StackOptions{MaxAttempts: 1})
				ctx := context.Background()
				first, second, _ := e.twoOrders(t)
				if _, err := e.pay.SandboxPay(ctx, "shop", first.OrderID, "4242424242424242"); err != nil {
					t.Fatal(err)
				}
				e.Transport.Reset()
				e.Transport.Inject(inject)
				_, ferr := e.pay.SandboxPay(ctx, "shop", second.OrderID, "4242424242424242")
				calls := e.Transport.Calls()
				e.Transport.Inject(nil)
				if _, err := e.pay.SandboxPay(ctx, "shop", second.OrderID, "4242424242424242"); err != nil {
					t.Fatalf("retry: %v (first: %v)", err, ferr)
				}
				e.expectOneSale(t, first, second)
				return calls
			}
			ddbtest.Sweep(t, run(t, nil), func(t *testing.T, inject func(int, string) ddbtest.Fault) { run(t, inject) })
		})
	}
}

// stripeFaults stands in front of stripe-mock and fails refund requests
// while failing is set, before or after stripe-mock saw them (a 500, or
// the answer lost), recording every refund's Idempotency-Key.
type stripeFaults struct {
	*httptest.Server
	mu          sync.Mutex
	failing     bool
	afterMock   bool
	refuse      bool // answer refunds as Stripe does one it could not make
	refundKeys  []string
	refundCalls int
}

func newStripeFaults(t *testing.T, mock string) *stripeFaults {
	target, err := url.Parse(mock)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	f := &stripeFaults{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/refunds" {
			proxy.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.refundCalls++
		f.refundKeys = append(f.refundKeys, r.Header.Get("Idempotency-Key"))
		failing, after, refuse := f.failing, f.afterMock, f.refuse
		f.mu.Unlock()
		switch {
		case refuse:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"re_refused","object":"refund","status":"failed","failure_reason":"lost_or_stolen_card","amount":3599,"currency":"gbp"}`)
		case !failing:
			proxy.ServeHTTP(w, r)
		case after:
			// stripe-mock made the refund; its answer never arrives.
			proxy.ServeHTTP(httptest.NewRecorder(), r)
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"error":{"type":"api_error","message":"injected"}}`)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *stripeFaults) set(failing, afterMock bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing, f.afterMock = failing, afterMock
}

// stripeTwoOrders is a checkout paying through Stripe (stripe-mock behind
// a fault injector) with two orders of one session, and deliver: Stripe's
// signed payment_intent.succeeded of an order, naming the session.
func stripeTwoOrders(t *testing.T, b ddbtest.Backend) (e *env, faults *stripeFaults, first, second checkout.Payment,
	deliver func(eventID string, p checkout.Payment) (string, error)) {
	t.Helper()
	faults = newStripeFaults(t, mockURL)
	e = newEnv(t, b, ddbtest.StackOptions{Env: map[string]string{"CHECKOUT_STRIPE_SECRET_KEY": "sk_test_platform",
		"CHECKOUT_STRIPE_PUBLISHABLE_KEY": "pk_test_platform", "STRIPE_API_BASE": faults.URL}})
	first, second, sid := e.twoOrders(t)
	deliver = func(eventID string, p checkout.Payment) (string, error) {
		obj := succeeded(p, p.Quote.TotalMinor)
		obj["metadata"].(map[string]string)[checkout.MetaSession] = sid
		body, sig := signed(t, eventID, "payment_intent.succeeded", obj, whsec, now)
		return e.hooks.ReceiveStripe(context.Background(), body, sig)
	}
	return e, faults, first, second, deliver
}

// Through Stripe (stripe-mock behind a fault injector): the second
// order's payment_intent.succeeded refunds its PaymentIntent in full. A
// refund call that fails, before or after Stripe made it, leaves the event
// unapplied (Stripe redelivers it), and the redelivery refunds with the
// same Idempotency-Key, unless Stripe's charge.refunded for the refund it
// made came first and refunded the order. Stripe's charge.refunded after
// the recorded refund changes nothing more.
func TestStripeDuplicateRefund(t *testing.T) {
	stripemock.Require(t, mockURL)
	cases := []struct {
		name              string
		afterMock         bool // the refund made, its answer lost
		refundEventFirst  bool // Stripe's charge.refunded before the redelivery
		wantCalls         int
		wantRedeliveryOut string
	}{
		{"500", false, false, 2, checkout.OutcomeRefundedDuplicate},
		// A connection closed before the answer: Go's transport sends a
		// request carrying an Idempotency-Key once more by itself.
		{"answer lost", true, false, 3, checkout.OutcomeRefundedDuplicate},
		{"answer lost, charge.refunded first", true, true, 2, checkout.OutcomeKnown},
	}
	for _, b := range ddbtest.Backends(t) {
		for _, c := range cases {
			t.Run(b.Name+" "+c.name, func(t *testing.T) {
				e, faults, first, second, deliver := stripeTwoOrders(t, b)
				ctx := context.Background()
				refunded := func(id string) (string, error) {
					body, sig := signed(t, id, "charge.refunded", map[string]any{"id": "ch_" + second.OrderID, "object": "charge",
						"amount_refunded": second.Quote.TotalMinor, "currency": "gbp", "payment_intent": intentOf(second),
						"metadata": map[string]string{checkout.MetaStore: "shop", checkout.MetaOrder: second.OrderID}}, whsec, now)
					return e.hooks.ReceiveStripe(ctx, body, sig)
				}
				if out, err := deliver("evt_first", first); err != nil || out != checkout.OutcomeApplied {
					t.Fatalf("the first payment: %q, %v", out, err)
				}
				faults.set(true, c.afterMock)
				if out, err := deliver("evt_second", second); err == nil {
					t.Fatalf("the second payment with the refund failing: %q, want an error (Stripe redelivers)", out)
				}
				faults.set(false, false)
				if c.refundEventFirst {
					if out, err := refunded("evt_refund_early"); err != nil || out != checkout.OutcomeApplied {
						t.Fatalf("charge.refunded before the redelivery: %q, %v", out, err)
					}
				}
				if out, err := deliver("evt_second", second); err != nil || out != c.wantRedeliveryOut {
					t.Fatalf("redelivery: %q, %v; want %q", out, err, c.wantRedeliveryOut)
				}
				if out, err := deliver("evt_second", second); err != nil || out != checkout.OutcomeDuplicate {
					t.Fatalf("redelivery again: %q, %v", out, err)
				}
				if !c.refundEventFirst {
					if out, err := refunded("evt_refund_late"); err != nil || out != checkout.OutcomeKnown {
						t.Fatalf("charge.refunded after the recorded refund: %q, %v", out, err)
					}
				}
				if out, err := deliver("evt_third", second); err != nil || out != checkout.OutcomeKnown {
					t.Fatalf("another success event of the refunded order: %q, %v", out, err)
				}
				e.expectOneSale(t, first, second)
				faults.mu.Lock()
				defer faults.mu.Unlock()
				if faults.refundCalls != c.wantCalls {
					t.Fatalf("%d refund calls, want %d", faults.refundCalls, c.wantCalls)
				}
				for _, k := range faults.refundKeys {
					if k != "tollgate-checkout-duplicate-"+second.OrderID {
						t.Fatalf("refund Idempotency-Keys %q, want the order's one key", faults.refundKeys)
					}
				}
			})
		}
	}
}

// A refund Stripe answers as failed: the event is recorded as
// duplicate-refund-failed with the reason on the payment (for an
// operator), the order is neither fulfilled nor marked refunded, and its
// page says this payment is a duplicate.
func TestStripeDuplicateRefundRefused(t *testing.T) {
	stripemock.Require(t, mockURL)
	e, faults, first, second, deliver := stripeTwoOrders(t, ddbtest.Backends(t)[0])
	ctx := context.Background()
	if out, err := deliver("evt_first", first); err != nil || out != checkout.OutcomeApplied {
		t.Fatalf("the first payment: %q, %v", out, err)
	}
	faults.mu.Lock()
	faults.refuse = true
	faults.mu.Unlock()
	if out, err := deliver("evt_second", second); err != nil || out != checkout.OutcomeDuplicateRefundFailed {
		t.Fatalf("the second payment, its refund refused: %q, %v", out, err)
	}
	if out, err := deliver("evt_second", second); err != nil || out != checkout.OutcomeDuplicate {
		t.Fatalf("redelivered: %q, %v", out, err)
	}
	d, err := e.order.Order(ctx, "shop", second.OrderID)
	if err != nil || d.Status != stores.StatusPending || d.DuplicateOf != first.OrderID {
		t.Fatalf("the second order: %+v, %v", d, err)
	}
	out, err := e.st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.st.Tables.Checkout),
		Key: dynamo.PKSK(dynamo.Tuple("payment", "shop", second.OrderID), "payment")})
	if err != nil || dynamo.StringAttr(out.Item["refundStatus"]) != "FAIL" || !strings.Contains(dynamo.StringAttr(out.Item["refundMessage"]), "lost_or_stolen_card") {
		t.Fatalf("the payment record %v, %v: want the refused refund recorded", out.Item, err)
	}
	if n := e.eventsOf(t, "order.refunded", second.OrderID) + e.eventsOf(t, "order.fulfilled", second.OrderID); n != 0 {
		t.Fatalf("%d events of the second order, want none", n)
	}
}
