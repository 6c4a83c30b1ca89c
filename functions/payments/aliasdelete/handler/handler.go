// Package handler implements DELETE /api/v1/alias/{aliasId}: the merchant's server soft-deletes an
// alias; it can no longer be charged.
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
	return paymentshttp.Handle(svc, d.Logger, paymentshttp.Spec{Key: payments.SecretKey, PathParam: "aliasId"}, func(ctx context.Context, req paymentshttp.Request) (int, any, error) {
		return http.StatusNoContent, nil, svc.DeleteAlias(ctx, req.Merchant, req.PathID, req.TestMode)
	}), nil
}
