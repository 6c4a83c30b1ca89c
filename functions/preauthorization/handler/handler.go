// Package handler implements PUT /api/v1/preauthorization: reserves an amount on the alias's payment
// method, exactly once per Idempotent-Key.
package handler

import (
	"context"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/paymentsapi"
	"github.com/tollgate-dev/tollgate/shared/paymentshttp"
)

// New builds the handler from its dependencies.
func New(d deps.Deps) (http.Handler, error) {
	svc, err := payments.Open(context.Background(), d)
	if err != nil {
		return nil, err
	}
	return paymentshttp.Handle(svc, d.Logger, paymentshttp.Spec{Key: payments.SecretKey, Idempotent: true, Body: true}, func(ctx context.Context, req paymentshttp.Request) (int, any, error) {
		return charge(ctx, svc, req, false)
	}), nil
}

// charge decodes the body and pre-authorizes (capture false) or authorizes.
func charge(ctx context.Context, svc *payments.Service, req paymentshttp.Request, capture bool) (int, any, error) {
	c, err := paymentsapi.DecodeCharge(req.Body)
	if err != nil {
		return 0, nil, err
	}
	a, err := svc.Charge(ctx, payments.ChargeRequest{Merchant: req.Merchant, IdempotentKey: req.IdempotentKey, Fingerprint: req.Fingerprint,
		TestMode: req.TestMode, Capture: capture, AliasID: c.AliasID, Amount: c.PaymentData.Amount, Currency: c.PaymentData.Currency,
		Reason: c.PaymentData.Reason, PurchaseID: c.PurchaseID, CustomerID: c.CustomerID})
	return http.StatusCreated, a, err
}
