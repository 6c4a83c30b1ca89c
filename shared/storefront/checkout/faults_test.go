package checkout_test

import (
	"context"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// A DynamoDB fault (500, throttle, timeout, an answer lost after the
// write) at every call of the checkout's fulfilment (the sandbox's
// payment_intent.succeeded): the payment fails or succeeds, the customer's
// retry converges, and nothing is doubled: one fulfilment, one
// order.fulfilled event, the keys claimed once.
func TestFulfilmentFaultSweep(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			run := func(t *testing.T, inject func(call int, op string) ddbtest.Fault) (*env, error) {
				e := newEnv(t, b, ddbtest.StackOptions{MaxAttempts: 1})
				p := e.pending(t, "")
				e.Transport.Reset()
				e.Transport.Inject(inject)
				_, ferr := e.pay.SandboxPay(context.Background(), "shop", p.OrderID, "4242424242424242")
				e.Transport.Inject(nil)
				if _, err := e.pay.SandboxPay(context.Background(), "shop", p.OrderID, "4242424242424242"); err != nil {
					t.Fatalf("retry: %v (first: %v)", err, ferr)
				}
				v, err := e.order.Order(context.Background(), "shop", p.OrderID)
				if err != nil || v.Status != stores.StatusFulfilled || len(v.Items[0].LicenseKeys) != 2 {
					t.Fatalf("order %+v, %v", v, err)
				}
				if n := len(e.events(t, "order.fulfilled")); n != 1 {
					t.Fatalf("%d order.fulfilled events", n)
				}
				if p := e.pool(t); p.Claimed != 2 || p.Available != 8 {
					t.Fatalf("pool %+v", p)
				}
				return e, ferr
			}
			ref, err := run(t, nil)
			if err != nil {
				t.Fatalf("fault-free: %v", err)
			}
			ddbtest.Sweep(t, ref.Transport.Calls(), func(t *testing.T, inject func(int, string) ddbtest.Fault) { _, _ = run(t, inject) })
		})
	}
}

// A fault at every DynamoDB call of starting a payment (the order and the
// intent recorded before the PSP call, its answer after): the customer's
// retry answers the same order and intent, with one order.created event.
func TestStartPaymentFaultSweep(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	run := func(t *testing.T, inject func(call int, op string) ddbtest.Fault) (*env, checkout.Payment) {
		e := newEnv(t, b, ddbtest.StackOptions{MaxAttempts: 1})
		ctx := context.Background()
		s, err := e.sessions.CreateSession(ctx, checkout.SessionRequest{Store: "shop", APIKey: apiKey, Cart: map[string]int64{"WIN-11-PRO": 1}, Currency: "GBP"})
		if err != nil {
			t.Fatal(err)
		}
		cart, buyer := checkout.CartRef{Store: "shop", Token: s.Token}, checkout.Buyer{Email: "buyer@example.com", Country: "GB"}
		e.Transport.Reset()
		e.Transport.Inject(inject)
		_, _ = e.cart.StartPayment(ctx, cart, buyer)
		e.Transport.Inject(nil)
		p, err := e.cart.StartPayment(ctx, cart, buyer)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if n := len(e.events(t, "order.created")); n != 1 {
			t.Fatalf("%d order.created events", n)
		}
		if _, err := e.pay.SandboxPay(ctx, "shop", p.OrderID, "4242424242424242"); err != nil {
			t.Fatalf("pay: %v", err)
		}
		return e, p
	}
	ref, want := run(t, nil)
	ddbtest.Sweep(t, ref.Transport.Calls(), func(t *testing.T, inject func(int, string) ddbtest.Fault) {
		_, got := run(t, inject)
		if got.OrderID == "" || got.PSPID == "" || got.Quote.TotalMinor != want.Quote.TotalMinor {
			t.Fatalf("payment %+v, want like %+v", got, want)
		}
	})
}
