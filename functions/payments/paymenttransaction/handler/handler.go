// Package handler implements GET /api/v1/transactions/{id}: a merchant reads one of its transactions
// and its action history.
package handler

import (
	"context"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/payments/paymentshttp"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
)

// New builds the handler from its dependencies.
func New(d deps.Deps) (http.Handler, error) {
	svc, err := payments.Open(context.Background(), d)
	if err != nil {
		return nil, err
	}
	return paymentshttp.Handle(svc, d.Logger, paymentshttp.Spec{Key: payments.SecretKey, PathParam: "id"}, func(ctx context.Context, req paymentshttp.Request) (int, any, error) {
		t, err := svc.Transaction(ctx, req.Merchant, req.PathID)
		return http.StatusOK, t, err
	}), nil
}
