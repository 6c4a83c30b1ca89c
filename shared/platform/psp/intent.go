package psp

import "context"

// Intent is a payment the customer confirms in the browser (Stripe: a
// PaymentIntent the Payment Element confirms), created server-side for
// exactly Amount. The caller records it (with IdempotencyKey) before the
// call and the result after; the same key again answers the same intent.
type Intent struct {
	IdempotencyKey string
	Amount         int64  // minor units, > 0
	Currency       string // ISO 4217, upper case
	// Metadata is attached to the PSP's object and comes back with its
	// notifications (the checkout's store and order).
	Metadata map[string]string
}

// IntentResult names the intent at the PSP and what the browser needs to
// confirm it.
type IntentResult struct {
	PSPID        string // Stripe: pi_...
	ClientSecret string // Stripe: the PaymentIntent's client_secret ("" for the sandbox)
}

// IntentCreator is a PSP that creates client-confirmed intents.
type IntentCreator interface {
	CreateIntent(ctx context.Context, c Credentials, in Intent) (IntentResult, error)
}

// CurrencyTaker is a PSP that says whether it charges in a currency: nil,
// or why not (a sentence naming the PSP and the currency), asked when a
// checkout session is created so a currency the PSP cannot take is refused
// before a buyer sees a cart.
type CurrencyTaker interface {
	TakesCurrency(code string) error
}
