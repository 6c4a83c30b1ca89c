package stores_test

import (
	"context"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// The marketplace lists the marketplace products of every store (one
// Query of the sparse index, one BatchGetItem of names); a product taken
// off the marketplace, or deactivated, leaves the listing.
func TestMarket(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			file := func(listed bool) stores.File {
				return stores.File{Stores: []stores.FileStore{
					{Slug: "a-shop", Name: "A Shop", APIKeys: []string{"sk_test_market_a1"}, Products: []stores.FileProduct{
						{SKU: "A-1", Name: "A one", Prices: map[string]int64{"GBP": 100}, Marketplace: listed},
						{SKU: "A-2", Name: "A two", Prices: map[string]int64{"GBP": 200}},
					}},
					{Slug: "b-shop", Name: "B Shop", APIKeys: []string{"sk_test_market_b1"}, Products: []stores.FileProduct{
						{SKU: "B-1", Name: "B one", Prices: map[string]int64{"EUR": 300}, Marketplace: true},
					}},
				}}
			}
			if _, err := e.admin.Import(ctx, file(true)); err != nil {
				t.Fatal(err)
			}
			got, err := stores.Market(ctx, e.st)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].SKU != "A-1" || got[0].StoreName != "A Shop" || got[1].SKU != "B-1" || got[1].StoreName != "B Shop" || got[1].Prices["EUR"] != 300 {
				t.Fatalf("market %+v", got)
			}
			if _, err := e.admin.Import(ctx, file(false)); err != nil {
				t.Fatal(err)
			}
			got, err = stores.Market(ctx, e.st)
			if err != nil || len(got) != 1 || got[0].SKU != "B-1" {
				t.Fatalf("after unlisting: %+v, %v", got, err)
			}
		})
	}
}
