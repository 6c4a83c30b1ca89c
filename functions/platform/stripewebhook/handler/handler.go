// Package handler implements the product's one Stripe webhook receiver,
// POST /stripe/webhook/ (and without the slash). An event whose metadata
// names a payments merchant (tollgate_merchant) is the payments API's:
// verified with that merchant's webhook secret (payments.ReceiveStripe);
// any other is the checkout's: verified with the platform account's
// secrets (checkout.ReceiveStripe). Each is applied once per event id.
// 200 {"status"} for an applied, duplicate or ignored event; 400 for an
// event that cannot be verified; 503 when a retry can succeed (Stripe
// retries any non-2xx).
package handler

import (
	"context"
	"errors"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/stripe"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
)

// bodyLimit bounds an event; Stripe's are a few KiB.
const bodyLimit = 256 << 10

// New builds the handler from its dependencies.
func New(d deps.Deps) (http.Handler, error) {
	svc, err := payments.Open(context.Background(), d)
	if err != nil {
		return nil, err
	}
	co, err := checkout.Open(context.Background(), d)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		body, err := httpx.ReadBody(r, bodyLimit)
		if err != nil {
			httpx.WriteRequestError(w, err)
			return
		}
		receive := co.ReceiveStripe
		// The peek only chooses whose secrets verify the event.
		if peek, perr := stripe.PeekWebhook(body); perr == nil && peek.Metadata[payments.MetaMerchant] != "" {
			receive = svc.ReceiveStripe
		}
		outcome, err := receive(ctx, body, r.Header.Get("Stripe-Signature"))
		var refused *refusal.Error
		switch {
		case err == nil:
			httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": outcome})
		case errors.As(err, &refused) && (errors.Is(err, payments.ErrBadNotification) || errors.Is(err, checkout.ErrBadNotification)):
			d.Logger.WarnContext(ctx, "Stripe webhook refused", "reason", refused.Message)
			httpx.WriteError(w, http.StatusBadRequest, refused.Message)
		case errors.As(err, &refused):
			httpx.WriteError(w, http.StatusServiceUnavailable, refused.Message)
		default:
			d.Logger.Log(ctx, failure.Level(ctx, err), "Stripe webhook not applied; Stripe retries it", "error", err)
			httpx.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable; retry")
		}
	}), nil
}
