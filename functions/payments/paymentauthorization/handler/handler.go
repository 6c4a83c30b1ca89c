// Package handler implements PUT /api/v1/authorization: charges an amount on the alias's payment
// method (captured at once), exactly once per Idempotent-Key.
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
	return paymentshttp.Handle(svc, d.Logger, paymentshttp.ChargeSpec, paymentshttp.ServeCharge(svc, true)), nil
}
