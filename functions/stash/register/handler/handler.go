// Package handler implements Stash's register call,
// POST /api/v1/purchase/register (PurchaseService_RegisterPayment): reserve
// every registration of a purchase, all or nothing, answering inline
// statuses with HTTP 200.
package handler

import (
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
	return stashhttp.Handle(sig, d.Logger, stashapi.DecodeRegister, svc.Register), nil
}
