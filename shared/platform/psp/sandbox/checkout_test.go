package sandbox

import (
	"context"
	"errors"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

// The checkout sandbox is stateless: the same idempotency key names the
// same intent and the same refund, in any container; bad requests are
// *psp.Error, not a refund.
func TestCheckoutIntentsAndRefunds(t *testing.T) {
	ctx := context.Background()
	in := psp.Intent{IdempotencyKey: "tollgate-checkout-ORD-1", Amount: 3599, Currency: "GBP"}
	a, err := Intents{}.CreateIntent(ctx, psp.Credentials{}, in)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := (Intents{}).CreateIntent(ctx, psp.Credentials{}, in); b != a || a.PSPID != IntentID(in.IdempotencyKey) {
		t.Fatalf("intents %+v and %+v of one key", a, b)
	}
	r1, err := Intents{}.Refund(ctx, psp.Credentials{}, a.PSPID, "refund-key-1", 3599, "duplicate")
	if err != nil || r1.Status != psp.StatusSuccess {
		t.Fatalf("refund: %+v, %v", r1, err)
	}
	r2, _ := Intents{}.Refund(ctx, psp.Credentials{}, a.PSPID, "refund-key-1", 3599, "")
	r3, _ := Intents{}.Refund(ctx, psp.Credentials{}, a.PSPID, "refund-key-2", 3599, "")
	if r2 != r1 || r3.PSPTransactionID == r1.PSPTransactionID {
		t.Fatalf("refunds %+v, %+v, %+v: one key must be one refund, another key another", r1, r2, r3)
	}
	for name, c := range map[string]struct {
		pspID, key string
		amount     int64
	}{
		"not a checkout intent": {"sbx_pi_a_1_EUR_x", "k", 1},
		"no key":                {a.PSPID, "", 1},
		"no amount":             {a.PSPID, "k", 0},
	} {
		var pe *psp.Error
		if _, err := (Intents{}).Refund(ctx, psp.Credentials{}, c.pspID, c.key, c.amount, ""); !errors.As(err, &pe) {
			t.Errorf("%s: %v, want a *psp.Error", name, err)
		}
	}
}
