// Package handler implements Stash's confirm call,
// POST /api/v1/purchase/confirm (PurchaseService_ConfirmPayment): turn the
// reservation into a sale and grant the items once; failures answer HTTP
// errors with an rpcStatus body.
package handler

import (
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/purchase"
	"github.com/tollgate-dev/tollgate/shared/stashapi"
	"github.com/tollgate-dev/tollgate/shared/stashhttp"
)

// New builds the handler from its dependencies.
func New(d deps.Deps) (http.Handler, error) {
	svc, sig, err := purchase.Setup(d)
	if err != nil {
		return nil, err
	}
	return stashhttp.Handle(sig, d.Logger, stashapi.DecodeConfirm, svc.Confirm), nil
}
