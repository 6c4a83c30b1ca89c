// Package handler implements Stash's offer details lookup,
// GET /api/v1/catalog/offer (CatalogService_GetOfferDetails): what one
// listed product contains (catalog.Shop.Offer), found by productId (or guid)
// in the per-container catalog cache. Locked and sold-out products are
// listed, so they have details; an unknown, removed or mismatched one
// answers 404 code 5.
package handler

import (
	"context"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
	"github.com/tollgate-dev/tollgate/shared/stash/stashhttp"
)

// New builds the handler from its dependencies and loads the catalog.
func New(d deps.Deps) (http.Handler, error) {
	shop, err := catalog.NewShop(d)
	if err != nil {
		return nil, err
	}
	sig, err := stashhttp.Signatures(d)
	if err != nil {
		return nil, err
	}
	answer := func(ctx context.Context, q stashapi.OfferQuery) (stashapi.OfferResponse, error) {
		p, err := shop.Offer(ctx, q.ProductID, q.GUID)
		if err != nil {
			return stashapi.OfferResponse{}, err
		}
		return offerResponse(p), nil
	}
	return stashhttp.HandleQuery(sig, d.Logger, stashapi.DecodeOfferQuery, answer), nil
}
