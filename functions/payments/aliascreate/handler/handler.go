// Package handler implements POST /api/v1/alias: a merchant's client app asks for an alias
// (Publishable-Key, PSP-Type, Idempotent-Key), answered with what its SDK
// needs to tokenise a payment method with that PSP.
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
	return paymentshttp.Handle(svc, d.Logger, paymentshttp.Spec{Key: payments.PublishableKey, Idempotent: true, PSPType: true}, func(ctx context.Context, req paymentshttp.Request) (int, any, error) {
		a, err := svc.CreateAlias(ctx, payments.NewAlias{Merchant: req.Merchant, PSP: req.PSPType, TestMode: req.TestMode, IdempotentKey: req.IdempotentKey, UserAgent: req.UserAgent})
		return http.StatusCreated, a, err
	}), nil
}
