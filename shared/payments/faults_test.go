package payments_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/sandbox"
)

// faultScenario is one money movement: setup prepares it without faults,
// act performs it (and is the merchant's retry).
type faultScenario struct {
	name  string
	setup func(v *env) string // returns the alias or transaction acted on
	act   func(v *env, on string) (payments.Answer, error)
	moved func(c sandbox.Counts) int // what the PSP executed for this act
}

var faultScenarios = []faultScenario{
	{
		name:  "pre-authorization",
		setup: func(v *env) string { return v.alias("m1", sandbox.TokenVisa, "CC") },
		act: func(v *env, al string) (payments.Answer, error) {
			return v.svc.Charge(context.Background(), charge("m1", "fault-key-01", al, 1500, false))
		},
		moved: func(c sandbox.Counts) int { return c.Charges },
	},
	{
		name: "capture",
		setup: func(v *env) string {
			a, err := v.svc.Charge(context.Background(), charge("m1", "fault-setup-1", v.alias("m1", sandbox.TokenVisa, "CC"), 1500, false))
			if err != nil {
				v.t.Fatal(err)
			}
			return a.ID
		},
		act: func(v *env, tx string) (payments.Answer, error) {
			return v.svc.Capture(context.Background(), "m1", tx, true)
		},
		moved: func(c sandbox.Counts) int { return c.Captures },
	},
	{
		name: "refund",
		setup: func(v *env) string {
			a, err := v.svc.Charge(context.Background(), charge("m1", "fault-setup-2", v.alias("m1", sandbox.TokenVisa, "CC"), 1500, true))
			if err != nil {
				v.t.Fatal(err)
			}
			return a.ID
		},
		act: func(v *env, tx string) (payments.Answer, error) {
			return v.svc.Refund(context.Background(), payments.RefundRequest{Merchant: "m1", IdempotentKey: "fault-refund-1", Fingerprint: "f",
				TestMode: true, TransactionID: tx, Amount: 500, Currency: "EUR", Reason: "r"})
		},
		moved: func(c sandbox.Counts) int { return c.Refunds },
	},
}

// For every money movement, every DynamoDB call it makes and every kind of
// failure (500, throttle, timeout, an answer lost after the write): the
// call fails cleanly, the merchant's retry succeeds, the PSP moved the
// money exactly once, and the transaction ends as in a run without faults.
func TestFaultSweep(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			for _, sc := range faultScenarios {
				t.Run(sc.name, func(t *testing.T) {
					ref := newFaultEnv(t, b)
					on := sc.setup(ref)
					ref.e.Transport.Reset()
					want, err := sc.act(ref, on)
					if err != nil || want.Status != "SUCCESS" {
						t.Fatalf("fault-free run: %+v, %v", want, err)
					}
					calls := len(ref.e.Transport.Calls())
					for n := 1; n <= calls; n++ {
						for _, fault := range ddbtest.AllFaults {
							t.Run(fmt.Sprintf("call %d %s", n, fault), func(t *testing.T) {
								v := newFaultEnv(t, b)
								on := sc.setup(v)
								before := sc.moved(v.sbx.Counts())
								v.e.Transport.Reset()
								v.e.Transport.Inject(func(call int, _ string) ddbtest.Fault {
									if call == n {
										return fault
									}
									return ddbtest.NoFault
								})
								if _, err := sc.act(v, on); err == nil && fault != ddbtest.LoseResponse {
									t.Fatalf("call %d failing (%s) went unnoticed", n, fault)
								}
								v.e.Transport.Inject(nil)
								got, err := sc.act(v, on)
								if err != nil || got.Status != want.Status || got.Action != want.Action || got.Amount != want.Amount {
									t.Fatalf("retry: %+v, %v; want %+v", got, err, want)
								}
								if moved := sc.moved(v.sbx.Counts()) - before; moved != 1 {
									t.Fatalf("the PSP moved money %d times, want once", moved)
								}
								again, err := sc.act(v, on)
								if err != nil || again != got {
									t.Fatalf("a further retry: %+v, %v; want the recorded %+v", again, err, got)
								}
							})
						}
					}
				})
			}
		})
	}
}

// newFaultEnv is newEnv with the SDK's own retries off, so every injected
// fault reaches the payments domain.
func newFaultEnv(t *testing.T, b ddbtest.Backend) *env {
	return newEnvWith(t, b, sandbox.Options{}, ddbtest.StackOptions{MaxAttempts: 1})
}
