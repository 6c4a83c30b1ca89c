package handler

import (
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

// catalogResponse encodes a shop listing as GetCatalog's answer: one
// section (headed sectionTitle; "" sends no header) listing each entry by
// productId: a product on sale as a STANDARD_OFFER priced in the listing's
// currency, with maxPurchasable its allowance; a locked product as a
// display-only "info" item (Stash's non-purchasable item: title, body,
// image as background).
func catalogResponse(l catalog.Listing, sectionTitle string) stashapi.CatalogResponse {
	section := stashapi.CatalogSection{Header: stashapi.Text(sectionTitle), Items: make([]stashapi.CatalogItem, 0, len(l.Entries))}
	for _, e := range l.Entries {
		p := e.Product
		if e.Display {
			section.Items = append(section.Items, stashapi.CatalogItem{Info: lockedItem(p)})
			continue
		}
		section.Items = append(section.Items, stashapi.CatalogItem{Product: &stashapi.PurchasableItem{
			GUID:           p.GUID,
			ProductID:      p.ProductID,
			Type:           stashapi.PurchasableStandardOffer,
			Name:           stashapi.Text(p.Name),
			Description:    stashapi.Text(p.Description),
			Image:          p.ImageURL,
			MaxPurchasable: e.Allowance,
			Price:          stashapi.Price{Amount: stashapi.PriceAmount{Currency: l.Currency, Cents: e.Price}},
			Metadata:       p.Metadata,
		}})
	}
	return stashapi.CatalogResponse{Catalog: stashapi.Catalog{Sections: []stashapi.CatalogSection{section}}}
}

func lockedItem(p catalog.Product) *stashapi.NonPurchasableItem {
	it := &stashapi.NonPurchasableItem{GUID: p.GUID, ItemID: p.ProductID, Type: stashapi.NonPurchasableUnspecified, Title: stashapi.Text(p.Name), Body: stashapi.Text(p.Description)}
	if p.ImageURL != "" {
		it.Attributes = &stashapi.NonPurchasableAttributes{Background: &stashapi.Background{ImageURL: p.ImageURL}}
	}
	return it
}
