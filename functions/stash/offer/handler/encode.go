package handler

import (
	"time"

	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

// offerResponse answers GetOfferDetails for product p: one item, the product
// itself (name as title, description, image, last change).
func offerResponse(p catalog.Product) stashapi.OfferResponse {
	it := stashapi.OfferItem{GUID: p.GUID, Title: stashapi.LocalizableText{DefaultText: p.Name}, Description: stashapi.Text(p.Description), Image: p.ImageURL}
	if !p.UpdatedAt.IsZero() {
		it.LastUpdatedAt = p.UpdatedAt.UTC().Format(time.RFC3339Nano)
	}
	return stashapi.OfferResponse{Items: []stashapi.OfferItem{it}}
}
