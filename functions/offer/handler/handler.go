// Package handler implements Stash's offer details lookup,
// GET /api/v1/catalog/offer (CatalogService_GetOfferDetails): what one
// listed product contains, found by productId (or guid) in the
// per-container catalog cache, with no DynamoDB call when warm and the last
// good copy when the table is slow or failing.
package handler

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tollgate-dev/tollgate/shared/catalog"
	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/stashapi"
	"github.com/tollgate-dev/tollgate/shared/stashhttp"
)

// Handler serves GET /api/v1/catalog/offer.
type Handler struct {
	catalog *catalog.Cache
	timeout time.Duration
}

// New builds the handler from its dependencies and loads the catalog.
func New(d deps.Deps) (http.Handler, error) {
	timeout, err := stashhttp.LookupTimeout(d)
	if err != nil {
		return nil, err
	}
	cache, err := catalog.New(d)
	if err != nil {
		return nil, err
	}
	sig, err := stashhttp.Signatures(d)
	if err != nil {
		return nil, err
	}
	cache.Warm(context.Background())
	h := &Handler{catalog: cache, timeout: timeout}
	return stashhttp.HandleQuery(sig, d.Logger, stashapi.DecodeOfferQuery, h.Offer), nil
}

// Offer answers one offer request: the product's details, or 404 code 5
// for a product that is unknown, removed from the catalog, or whose guid is
// not the one sent (catalog.Find). Locked and sold-out products are listed,
// so they have details.
func (h *Handler) Offer(ctx context.Context, q stashapi.OfferQuery) (stashapi.OfferResponse, error) {
	wait, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	cat, err := h.catalog.Get(wait)
	if err != nil {
		return stashapi.OfferResponse{}, fmt.Errorf("catalog: %w", err)
	}
	p, err := catalog.Find(cat, q.ProductID, q.GUID)
	if err != nil {
		return stashapi.OfferResponse{}, err
	}
	return stashapi.BuildOffer(p), nil
}
