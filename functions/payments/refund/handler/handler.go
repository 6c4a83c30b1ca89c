// Package handler implements PUT /api/v1/authorization/{id}/refund: refunds part or all of a captured
// payment, exactly once per Idempotent-Key, never beyond the captured amount.
package handler

import (
	"context"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/payments/paymentsapi"
	"github.com/tollgate-dev/tollgate/shared/payments/paymentshttp"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
)

// New builds the handler from its dependencies.
func New(d deps.Deps) (http.Handler, error) {
	svc, err := payments.Open(context.Background(), d)
	if err != nil {
		return nil, err
	}
	return paymentshttp.Handle(svc, d.Logger, paymentshttp.Spec{Key: payments.SecretKey, Idempotent: true, Body: true, PathParam: "id"}, func(ctx context.Context, req paymentshttp.Request) (int, any, error) {
		pd, err := paymentsapi.DecodeRefund(req.Body)
		if err != nil {
			return 0, nil, err
		}
		a, err := svc.Refund(ctx, payments.RefundRequest{Merchant: req.Merchant, IdempotentKey: req.IdempotentKey, Fingerprint: req.Fingerprint,
			TestMode: req.TestMode, TransactionID: req.PathID, Amount: pd.Amount, Currency: pd.Currency, Reason: pd.Reason})
		return http.StatusCreated, a, err
	}), nil
}
