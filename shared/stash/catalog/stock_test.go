package catalog_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest/txitem"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

// The stock writes purchases compose, checked as built (no emulator): what
// they change, and on which rows their conditions hold.

func readOp(t *testing.T, ti types.TransactWriteItem) txitem.Item {
	t.Helper()
	it, err := txitem.Read(ti)
	if err != nil {
		t.Fatalf("built item: %v", err)
	}
	return it
}

func TestStockOps(t *testing.T) {
	limited := catalog.Product{ProductID: "gem", PerPlayerLimit: ptr(3)}
	free := catalog.Product{ProductID: "gem"}
	tests := []struct {
		name string
		op   types.TransactWriteItem
		want txitem.Text
	}{
		{"reserve: active, unlocked, priced, units, same limit", catalog.ReserveOp("Catalog", limited, 2, 100, "USD"), txitem.Text{
			Update: "ADD available -2, reserved 2",
			Condition: "(active = true) AND (locked = false) AND (prices.USD = 100) AND ((unlimited = true) OR (available >= 2)) " +
				"AND (perPlayerLimit = 3)"}},
		{"reserve: no limit assumed", catalog.ReserveOp("Catalog", free, 1, 0, "JPY"), txitem.Text{
			Update: "ADD available -1, reserved 1",
			Condition: "(active = true) AND (locked = false) AND (prices.JPY = 0) AND ((unlimited = true) OR (available >= 1)) " +
				"AND (attribute_not_exists (perPlayerLimit))"}},
		{"reserve and sell: exists, units, same limit", catalog.ReserveAndSellOp("Catalog", limited, 2), txitem.Text{
			Update:    "ADD available -2, sold 2",
			Condition: "(attribute_exists (pk)) AND ((unlimited = true) OR (available >= 2)) AND (perPlayerLimit = 3)"}},
		{"reserve and sell: no limit assumed", catalog.ReserveAndSellOp("Catalog", free, 2), txitem.Text{
			Update:    "ADD available -2, sold 2",
			Condition: "(attribute_exists (pk)) AND ((unlimited = true) OR (available >= 2)) AND (attribute_not_exists (perPlayerLimit))"}},
		{"sell: exists and holds the reservation", catalog.SellOp("Catalog", "gem", 2), txitem.Text{
			Update: "ADD reserved -2, sold 2", Condition: "(attribute_exists (pk)) AND (reserved >= 2)"}},
		{"release: exists and holds the reservation", catalog.ReleaseOp("Catalog", "gem", 2), txitem.Text{
			Update: "ADD available 2, reserved -2", Condition: "(attribute_exists (pk)) AND (reserved >= 2)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			// A condition comes with ALL_OLD: the purchase flow explains a
			// failure from the row it returns.
			want.Op, want.Table, want.Key, want.ReturnsOld = "Update", "Catalog", `pk="gem"`, want.Condition != ""
			if got := readOp(t, tt.op).Text; got != want {
				t.Errorf("built item\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// stockRow is a catalog row on sale: active, unlocked, 100 USD, 5 units
// left of a limited stock, at most 3 per player; change edits it.
func stockRow(change func(map[string]types.AttributeValue)) map[string]types.AttributeValue {
	row := map[string]types.AttributeValue{
		dynamo.AttrPK:              dynamo.S("gem"),
		catalog.AttrActive:         dynamo.Bool(true),
		catalog.AttrLocked:         dynamo.Bool(false),
		catalog.AttrPrices:         &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"USD": dynamo.N(100), "EUR": dynamo.N(90)}},
		catalog.AttrUnlimited:      dynamo.Bool(false),
		catalog.AttrStock:          dynamo.N(10),
		catalog.AttrAvailable:      dynamo.N(5),
		catalog.AttrPerPlayerLimit: dynamo.N(3),
	}
	if change != nil {
		change(row)
	}
	return row
}

func TestStockConditions(t *testing.T) {
	set := func(attr string, v types.AttributeValue) func(map[string]types.AttributeValue) {
		return func(r map[string]types.AttributeValue) { r[attr] = v }
	}
	tests := []struct {
		name    string
		product catalog.Product // what the cached catalog assumed
		qty     int64
		row     map[string]types.AttributeValue // nil: no row
		// Whether a registration may reserve, and whether a paid confirm
		// without reservation may sell.
		reserve, reserveAndSell bool
	}{
		{"on sale", limitOf(3), 2, stockRow(nil), true, true},
		{"the last units", limitOf(3), 5, stockRow(nil), true, true},
		{"one unit short", limitOf(3), 6, stockRow(nil), false, false},
		{"sold out", limitOf(3), 1, stockRow(set(catalog.AttrAvailable, dynamo.N(0))), false, false},
		{"oversold counter", limitOf(3), 1, stockRow(set(catalog.AttrAvailable, dynamo.N(-2))), false, false},
		{"unlimited: available is meaningless", limitOf(3), 50, stockRow(func(r map[string]types.AttributeValue) {
			r[catalog.AttrUnlimited], r[catalog.AttrAvailable] = dynamo.Bool(true), dynamo.N(-7)
			delete(r, catalog.AttrStock)
		}), true, true},
		{"removed from the catalog", limitOf(3), 1, stockRow(set(catalog.AttrActive, dynamo.Bool(false))), false, true},
		{"locked", limitOf(3), 1, stockRow(set(catalog.AttrLocked, dynamo.Bool(true))), false, true},
		{"price changed", limitOf(3), 1, stockRow(set(catalog.AttrPrices, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"USD": dynamo.N(120)}})), false, true},
		{"no longer priced in the currency", limitOf(3), 1, stockRow(set(catalog.AttrPrices, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"EUR": dynamo.N(90)}})), false, true},
		{"limit raised since cached", limitOf(3), 1, stockRow(set(catalog.AttrPerPlayerLimit, dynamo.N(4))), false, false},
		{"limit removed since cached", limitOf(3), 1, stockRow(func(r map[string]types.AttributeValue) { delete(r, catalog.AttrPerPlayerLimit) }), false, false},
		{"limit added since cached", catalog.Product{ProductID: "gem"}, 1, stockRow(nil), false, false},
		{"no limit, as cached", catalog.Product{ProductID: "gem"}, 1, stockRow(func(r map[string]types.AttributeValue) { delete(r, catalog.AttrPerPlayerLimit) }), true, true},
		{"no row", limitOf(3), 1, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				op   string
				item types.TransactWriteItem
				want bool
			}{
				{"ReserveOp", catalog.ReserveOp("Catalog", tt.product, tt.qty, 100, "USD"), tt.reserve},
				{"ReserveAndSellOp", catalog.ReserveAndSellOp("Catalog", tt.product, tt.qty), tt.reserveAndSell},
			} {
				it := readOp(t, c.item)
				if got, err := it.Holds(tt.row); err != nil || got != c.want {
					t.Errorf("%s of %d: condition %q on %s = %v, %v; want %v", c.op, tt.qty, it.Condition, txitem.Format(&types.AttributeValueMemberM{Value: tt.row}), got, err, c.want)
				}
			}
		})
	}
}

func limitOf(n int64) catalog.Product {
	return catalog.Product{ProductID: "gem", PerPlayerLimit: ptr(n)}
}
