package handler

import (
	"encoding/json"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

// TestCatalogResponse: the encoding of a listing (which products and
// allowances it holds is catalog.List's, tested in shared/stash/catalog): one
// section, offers priced in the listing's currency, locked products as
// display-only info items, no header when the title is empty.
func TestCatalogResponse(t *testing.T) {
	a := catalog.Product{ProductID: "a", GUID: "g-a", Name: "A", Description: "Alpha", ImageURL: "https://x/a.png", Metadata: map[string]string{"k": "v"}}
	d := catalog.Product{ProductID: "d", GUID: "g-d", Name: "D", Description: "Soon", ImageURL: "https://x/d.png", Locked: true}
	f := catalog.Product{ProductID: "f", Name: "F", Locked: true}
	listing := catalog.Listing{Currency: "JPY", Entries: []catalog.Entry{
		{Product: a, Price: 150, Allowance: 10000}, {Product: d, Display: true}, {Product: f, Display: true},
	}}
	got, _ := json.Marshal(catalogResponse(listing, ""))
	want := `{"catalog":{"sections":[{"items":[` +
		`{"product":{"guid":"g-a","productId":"a","type":"PURCHASABLE_ITEM_TYPE_STANDARD_OFFER","name":{"defaultText":"A"},"description":{"defaultText":"Alpha"},"image":"https://x/a.png","maxPurchasable":10000,"price":{"amount":{"currency":"JPY","cents":150}},"metadata":{"k":"v"}}},` +
		`{"info":{"guid":"g-d","itemId":"d","type":"NON_PURCHASABLE_ITEM_TYPE_UNSPECIFIED","title":{"defaultText":"D"},"body":{"defaultText":"Soon"},"attributes":{"background":{"imageUrl":"https://x/d.png"}}}},` +
		`{"info":{"itemId":"f","type":"NON_PURCHASABLE_ITEM_TYPE_UNSPECIFIED","title":{"defaultText":"F"}}}]}]}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	titled := catalogResponse(catalog.Listing{Currency: "USD", Entries: []catalog.Entry{}}, "Shop").Catalog.Sections
	if len(titled) != 1 || titled[0].Header == nil || titled[0].Header.DefaultText != "Shop" || titled[0].Items == nil {
		t.Errorf("sections %+v, want one headed Shop with an empty item list", titled)
	}
}
