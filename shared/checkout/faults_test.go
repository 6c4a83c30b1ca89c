package checkout_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/stores"
)

// A DynamoDB fault (500, throttle, timeout, an answer lost after the
// write) at every call of the checkout's fulfilment (the sandbox's
// payment_intent.succeeded): the payment fails or succeeds, the customer's
// retry converges, and nothing is doubled: one fulfilment, one
// order.fulfilled event, the keys claimed once.
func TestFulfilmentFaultSweep(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			run := func(t *testing.T, inject func(call int) ddbtest.Fault) (*env, error) {
				e := newEnv(t, b, ddbtest.StackOptions{MaxAttempts: 1})
				p := e.pending(t, "")
				e.Transport.Reset()
				if inject != nil {
					e.Transport.Inject(func(call int, _ string) ddbtest.Fault { return inject(call) })
				}
				ferr := e.svc.SandboxPay(context.Background(), "shop", p.OrderID, "4242424242424242")
				e.Transport.Inject(nil)
				if err := e.svc.SandboxPay(context.Background(), "shop", p.OrderID, "4242424242424242"); err != nil {
					t.Fatalf("retry: %v (first: %v)", err, ferr)
				}
				v, err := e.svc.Order(context.Background(), "shop", p.OrderID)
				if err != nil || v.Status != stores.StatusFulfilled || len(v.Items[0].LicenseKeys) != 2 {
					t.Fatalf("order %+v, %v", v, err)
				}
				if n := len(e.events(t, "order.fulfilled")); n != 1 {
					t.Fatalf("%d order.fulfilled events", n)
				}
				if p := e.pool(t); p.KeysClaimed != 2 || p.KeysAvailable != 8 {
					t.Fatalf("pool %+v", p)
				}
				return e, ferr
			}
			ref, err := run(t, nil)
			if err != nil {
				t.Fatalf("fault-free: %v", err)
			}
			calls := ref.Transport.Calls()
			if len(calls) == 0 {
				t.Fatal("no calls counted")
			}
			for n := 1; n <= len(calls); n++ {
				for _, fault := range ddbtest.AllFaults {
					t.Run(fmt.Sprintf("call %d %s %s", n, calls[n-1], fault), func(t *testing.T) {
						run(t, func(call int) ddbtest.Fault {
							if call == n {
								return fault
							}
							return ddbtest.NoFault
						})
					})
				}
			}
		})
	}
}
