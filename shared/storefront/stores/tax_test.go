package stores_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// pricesIncludeTax: read from the stores file, kept with the store, and
// removed again when a later import leaves it out; without it, GBP and
// EUR prices include tax and other currencies' do not.
func TestPricesIncludeTax(t *testing.T) {
	f, err := stores.ParseFile([]byte(`{"stores": [
	  {"slug": "uk", "name": "UK", "apiKeys": ["sk_test_uk_store_1"], "products": []},
	  {"slug": "net", "name": "Net", "apiKeys": ["sk_test_net_store_1"], "pricesIncludeTax": false, "products": []},
	  {"slug": "gross", "name": "Gross", "apiKeys": ["sk_test_gross_store_1"], "pricesIncludeTax": true, "products": []}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, ddbtest.Backends(t)[0])
	ctx := context.Background()
	if _, err := e.admin.Import(ctx, f); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]bool{
		"uk":    {"GBP": true, "EUR": true, "USD": false, "JPY": false},
		"net":   {"GBP": false, "EUR": false, "USD": false},
		"gross": {"GBP": true, "USD": true, "JPY": true},
	}
	for slug, byCurrency := range want {
		l, err := stores.ReadListing(ctx, e.st.DB, e.st.Tables.Stores, slug)
		if err != nil {
			t.Fatal(err)
		}
		for cur, included := range byCurrency {
			if got := l.Store.TaxIncluded(cur); got != included {
				t.Errorf("%s in %s: included %v, want %v", slug, cur, got, included)
			}
		}
	}
	// The setting taken out of the file: the default again.
	f.Stores[2].PricesIncludeTax = nil
	if _, err := e.admin.Import(ctx, f); err != nil {
		t.Fatal(err)
	}
	if l, _ := stores.ReadListing(ctx, e.st.DB, e.st.Tables.Stores, "gross"); l.Store.PricesIncludeTax != nil || l.Store.TaxIncluded("USD") {
		t.Errorf("after the setting was removed: %+v", l.Store)
	}
	for _, bad := range []string{`"pricesIncludeTax": "yes"`, `"pricesIncludeTax": 1`} {
		if _, err := stores.ParseFile([]byte(`{"stores": [{"slug": "x", "name": "X", "apiKeys": ["sk_test_xx_store_1"], ` + bad + `, "products": []}]}`)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	// Prices in a code that is not an ISO 4217 currency with a minor unit.
	for _, cur := range []string{"XAU", "ABC"} {
		_, err := stores.ParseFile([]byte(`{"stores": [{"slug": "x", "name": "X", "apiKeys": ["sk_test_xx_store_1"],
		  "products": [{"sku": "A", "name": "A", "prices": {"` + cur + `": 100}}]}]}`))
		if err == nil || !strings.Contains(err.Error(), cur) {
			t.Errorf("prices in %s: %v", cur, err)
		}
	}
}
