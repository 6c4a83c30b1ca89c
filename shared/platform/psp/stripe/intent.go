package stripe

import (
	"context"
	"errors"
	"strings"

	stripeapi "github.com/stripe/stripe-go/v82"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

var _ psp.IntentCreator = (*Adapter)(nil)

// CreateIntent creates a PaymentIntent for the Payment Element to confirm:
// automatic payment methods, captured automatically, unconfirmed. The
// Idempotency-Key makes a retry after a lost answer get the same intent.
func (a *Adapter) CreateIntent(ctx context.Context, c psp.Credentials, in psp.Intent) (psp.IntentResult, error) {
	const op = "create intent"
	sc, err := a.client(op, c)
	if err != nil {
		return psp.IntentResult{}, err
	}
	if err := a.TakesCurrency(in.Currency); err != nil {
		// The checkout asks first; never charge another amount than shown.
		return psp.IntentResult{}, &psp.Error{PSP: psp.Stripe, Op: op, Err: err}
	}
	params := &stripeapi.PaymentIntentCreateParams{
		Amount:   stripeapi.Int64(in.Amount),
		Currency: stripeapi.String(strings.ToLower(in.Currency)),
		AutomaticPaymentMethods: &stripeapi.PaymentIntentCreateAutomaticPaymentMethodsParams{
			Enabled: stripeapi.Bool(true),
		},
	}
	for k, v := range in.Metadata {
		params.AddMetadata(k, v)
	}
	params.SetIdempotencyKey(in.IdempotencyKey)
	pi, err := sc.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		r, perr := mapError(op, err)
		if perr == nil { // a decline cannot happen before confirmation; keep it an error
			perr = &psp.Error{PSP: psp.Stripe, Op: op, Err: errors.New(r.Message)}
		}
		return psp.IntentResult{}, perr
	}
	return psp.IntentResult{PSPID: pi.ID, ClientSecret: pi.ClientSecret}, nil
}
