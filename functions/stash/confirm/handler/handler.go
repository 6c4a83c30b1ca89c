// Package handler implements Stash's confirm call,
// POST /api/v1/purchase/confirm (PurchaseService_ConfirmPayment): turn the
// reservation into a sale and grant the items once; failures answer HTTP
// errors with an rpcStatus body.
package handler

import (
	"context"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/stash/purchase"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
	"github.com/tollgate-dev/tollgate/shared/stash/stashhttp"
)

// New builds the handler from its dependencies and loads the catalog.
func New(d deps.Deps) (http.Handler, error) {
	svc, err := purchase.New(d)
	if err != nil {
		return nil, err
	}
	sig, err := stashhttp.Signatures(d)
	if err != nil {
		return nil, err
	}
	confirm := func(ctx context.Context, req stashapi.ConfirmRequest) (stashapi.ConfirmResponse, error) {
		resp, _, err := svc.Confirm(ctx, req, purchase.ViaConfirm)
		return resp, err
	}
	return stashhttp.Handle(sig, d.Logger, stashapi.DecodeConfirm, confirm), nil
}
