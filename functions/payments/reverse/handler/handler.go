// Package handler implements PUT /api/v1/preauthorization/{id}/reverse: cancels a pre-authorization
// that was not captured; a repeat answers the stored result.
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
	return paymentshttp.Handle(svc, d.Logger, paymentshttp.Spec{Key: payments.SecretKey, PathParam: "id"}, func(ctx context.Context, req paymentshttp.Request) (int, any, error) {
		reason, err := paymentsapi.DecodeReverse(req.Body)
		if err != nil {
			return 0, nil, err
		}
		a, err := svc.Reverse(ctx, req.Merchant, req.PathID, req.TestMode, reason)
		return http.StatusOK, a, err
	}), nil
}
