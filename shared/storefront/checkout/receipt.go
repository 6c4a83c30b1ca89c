package checkout

import (
	"context"
	"fmt"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Receipt reads what the buyer's emails of order id of store slug show:
// the order with its keys (none once revoked), the store's name and
// support address, the names the buyer saw and the checkout's locale. An
// order of the licensing API has no checkout payment: its names are the
// store's current ones and its locale the default. ErrNoOrder: no such
// order or store.
func (s *Service) Receipt(ctx context.Context, slug, id string) (OrderView, error) {
	if !stores.ValidSlug(slug) || !stores.ValidOrderID(id) {
		return OrderView{}, refusal.New(ErrNoOrder, "no such order")
	}
	o, l, found, err := stores.EmailOrder(ctx, s.st, slug, id, s.now)
	if err != nil {
		return OrderView{}, fmt.Errorf("checkout: receipt of %s: %w", id, err)
	}
	if !found {
		return OrderView{}, refusal.New(ErrNoOrder, "store %q has no order %s", slug, id)
	}
	v := OrderView{OrderID: o.ID, Store: slug, StoreName: l.Store.Name, Status: o.Status, Currency: o.Currency,
		CustomerEmail: o.CustomerEmail, ExternalReference: o.ExternalReference, TotalMinor: o.TotalMinor, Items: o.Items,
		ProductNames: map[string]string{}, Source: o.Source, SupportEmail: l.Store.SupportEmail, CreatedAt: o.CreatedAt,
		Fulfilled: o.Fulfilled, KeysRevoked: o.KeysRevoked, RefundedMinor: o.RefundedMinor}
	// The amounts as the order recorded them when charged (never recomputed).
	v.Amounts, v.AmountsKnown = o.Amounts()
	if o.Tax != nil {
		v.TaxLabel = o.Tax.Label
	}
	for sku, p := range l.Products {
		v.ProductNames[sku] = p.Name
	}
	if o.Source == stores.SourceAPI {
		return v, nil
	}
	rec, err := s.payment(ctx, slug, id)
	if err != nil {
		return OrderView{}, err
	}
	// The checkout's record: what the buyer saw when paying.
	for sku, name := range productNames(rec) {
		v.ProductNames[sku] = name
	}
	if name := dynamo.StringAttr(rec[attrStoreName]); name != "" {
		v.StoreName = name
	}
	v.Locale, v.ReturnURLSuccess, v.DuplicateOf = dynamo.StringAttr(rec[attrLocale]), dynamo.StringAttr(rec[attrReturnURL]), dynamo.StringAttr(rec[attrDuplicateOf])
	return v, nil
}
