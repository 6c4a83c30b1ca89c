package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/money"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

// Test cards of the checkout sandbox (Stripe's numbers, so a person who
// knows one knows the other).
const (
	CardSucceeds = "4242424242424242"
	CardDeclines = "4000000000000002"
)

// Intents is the checkout's sandbox PSP: stateless, so every Lambda
// container answers the same. An intent's id is derived from its
// idempotency key (the caller's order), so creating it again, anywhere,
// names the same intent, and its success notification is derived from the
// intent: applying it twice is one event.
type Intents struct{}

var _ psp.IntentCreator = Intents{}

// Type is psp.Sandbox.
func (Intents) Type() psp.Type { return psp.Sandbox }

// TestModeOnly: the checkout sandbox never takes live payments (psp.Select
// refuses it outside test mode).
func (Intents) TestModeOnly() bool { return true }

// CreateIntent names the intent of in.
func (Intents) CreateIntent(_ context.Context, _ psp.Credentials, in psp.Intent) (psp.IntentResult, error) {
	if in.IdempotencyKey == "" || in.Amount <= 0 || !currency(in.Currency) {
		return psp.IntentResult{}, &psp.Error{PSP: psp.Sandbox, Op: "create intent", Err: errors.New("idempotency key, a positive amount and a currency are required")}
	}
	return psp.IntentResult{PSPID: IntentID(in.IdempotencyKey)}, nil
}

// IntentID is the sandbox intent id of an idempotency key.
func IntentID(idempotencyKey string) string { return "pi_sandbox_" + digest(idempotencyKey) }

// Succeeded is the sandbox's notification that intent pspID was paid: the
// same intent always gives the same event id.
func Succeeded(pspID string, amount int64, currency string, metadata map[string]string, at time.Time) psp.Notification {
	return psp.Notification{PSP: psp.Sandbox, EventID: "evt_sandbox_" + pspID + "_succeeded", EventType: "payment_intent.succeeded",
		Kind: psp.NotifySucceeded, PSPTransactionID: pspID, Status: psp.StatusSuccess, Amount: amount, Currency: currency,
		Metadata: copyMap(metadata), TestMode: true, Created: at}
}

// Refund gives back amount of checkout intent pspID. Stateless like the
// intents: the refund's id derives from the idempotency key, so the same
// refund asked again is the same refund.
func (Intents) Refund(_ context.Context, _ psp.Credentials, pspID, idempotencyKey string, amount int64, _ string) (psp.Result, error) {
	if !strings.HasPrefix(pspID, "pi_sandbox_") || idempotencyKey == "" || amount <= 0 {
		return psp.Result{}, &psp.Error{PSP: psp.Sandbox, Op: "refund", Err: errors.New("a sandbox intent, an idempotency key and a positive amount are required")}
	}
	return psp.Result{Status: psp.StatusSuccess, PSPTransactionID: "re_sandbox_" + digest(idempotencyKey)}, nil
}

var _ psp.CurrencyTaker = Intents{}

// TakesCurrency: the sandbox charges any ISO 4217 currency with a minor
// unit (money.Exponent), in its minor units.
func (Intents) TakesCurrency(code string) error {
	if _, err := money.Exponent(code); err != nil {
		return fmt.Errorf("the sandbox takes ISO 4217 currencies with a minor unit, not %q", code)
	}
	return nil
}
