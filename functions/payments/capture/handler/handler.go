// Package handler implements PUT /api/v1/preauthorization/{id}/capture: captures a pre-authorization;
// a repeat answers the stored result.
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
		a, err := svc.Capture(ctx, req.Merchant, req.PathID, req.TestMode)
		return http.StatusOK, a, err
	}), nil
}
