// Package handler implements Stash's catalog lookup, GET /api/v1/catalog
// (CatalogService_GetCatalog): what the shop sells and, when Stash names the
// player, how many units of each this player may still buy
// (catalog.Shop.Listing). Stash shows the player an error page when this call
// fails, so it is answered from the per-container catalog cache and goes
// without the player's counts rather than fail.
package handler

import (
	"context"
	"errors"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
	"github.com/tollgate-dev/tollgate/shared/stash/stashhttp"
)

// EnvSectionTitle is the header of the catalog's one section (default
// "Shop"; "-" sends no header).
const EnvSectionTitle = "CATALOG_SECTION_TITLE"

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
	title := d.String(EnvSectionTitle, "Shop")
	if title == "-" {
		title = ""
	}
	answer := func(ctx context.Context, q stashapi.CatalogQuery) (stashapi.CatalogResponse, error) {
		listing, err := shop.Listing(ctx, catalog.ListingQuery{PlayerID: q.PlayerID, Currency: q.Currency, Region: q.Region})
		if errors.Is(err, catalog.ErrNotPriced) {
			// In the API's terms: the query parameter at fault.
			return stashapi.CatalogResponse{}, refusal.New(catalog.ErrNotPriced, "field \"currency\": %v", err)
		}
		if err != nil {
			return stashapi.CatalogResponse{}, err
		}
		return catalogResponse(listing, title), nil
	}
	return stashhttp.HandleQuery(sig, d.Logger, stashapi.DecodeCatalogQuery, answer), nil
}
