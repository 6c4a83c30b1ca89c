// Package handler implements PUT /api/v1/alias/{aliasId}: the client app completes an alias with
// the PSP's token of the payment method it tokenised.
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
	return paymentshttp.Handle(svc, d.Logger, paymentshttp.Spec{Key: payments.PublishableKey, Body: true, PathParam: "aliasId"}, func(ctx context.Context, req paymentshttp.Request) (int, any, error) {
		ex, err := paymentsapi.DecodeExchange(req.Body)
		if err != nil {
			return 0, nil, err
		}
		a, err := svc.ExchangeAlias(ctx, payments.Exchange{Merchant: req.Merchant, AliasID: req.PathID, TestMode: req.TestMode, PSPAlias: ex.PSPAlias, PaymentMethod: ex.PaymentMethod, Extra: ex.Extra})
		return http.StatusOK, a, err
	}), nil
}
