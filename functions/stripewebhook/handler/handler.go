// Package handler implements the product's Stripe webhook receiver,
// POST /stripe/webhook/ (and without the slash): it verifies the event with
// the Stripe-Signature header and the webhook secret of the merchant whose
// charge it is about, and applies it once per event id (payments.ReceiveStripe).
// 200 {"status"} for an applied, duplicate or ignored event; 400 for an
// event that cannot be verified; 503 when a retry can succeed (Stripe
// retries any non-2xx).
package handler

import (
	"context"
	"errors"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/failure"
	"github.com/tollgate-dev/tollgate/shared/httpx"
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/refusal"
)

// bodyLimit bounds an event; Stripe's are a few KiB.
const bodyLimit = 256 << 10

// New builds the handler from its dependencies.
func New(d deps.Deps) (http.Handler, error) {
	svc, err := payments.Open(context.Background(), d)
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
		outcome, err := svc.ReceiveStripe(ctx, body, r.Header.Get("Stripe-Signature"))
		var refused *refusal.Error
		switch {
		case err == nil:
			httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": outcome})
		case errors.As(err, &refused) && errors.Is(err, payments.ErrBadNotification):
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
