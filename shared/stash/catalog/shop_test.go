package catalog_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

type offerQuery struct{ ProductID, GUID string }

func shopCatalog() *catalog.Catalog {
	return catalog.NewCatalog([]catalog.Product{
		{ProductID: "a", GUID: "g-a", Name: "A", Description: "Alpha", ImageURL: "https://x/a.png", Prices: map[string]int64{"USD": 100, "EUR": 90, "JPY": 150}, Active: true, Metadata: map[string]string{"k": "v"}},
		{ProductID: "b", Name: "B", Prices: map[string]int64{"USD": 200}, Stock: ptr(5), Available: 0, Active: true},
		{ProductID: "c", Name: "C", Prices: map[string]int64{"USD": 300, "EUR": 280}, PerPlayerLimit: ptr(2), Active: true},
		{ProductID: "d", GUID: "g-d", Name: "D", Description: "Soon", ImageURL: "https://x/d.png", Prices: map[string]int64{"USD": 400}, Locked: true, Active: true},
		{ProductID: "e", GUID: "g-e", Name: "E", Prices: map[string]int64{"USD": 500, "GBP": 450}, Active: false},
		{ProductID: "f", Name: "F", Prices: map[string]int64{"JPY": 10}, Locked: true, Active: true},
	})
}

func TestAllowance(t *testing.T) {
	tests := []struct {
		name   string
		p      catalog.Product
		bought int64
		want   int64
	}{
		{"unlimited, no limit: one line's most", catalog.Product{}, 0, validate.MaxQuantity},
		{"limited stock left", catalog.Product{Stock: ptr(10), Available: 4}, 0, 4},
		{"sold out", catalog.Product{Stock: ptr(10), Available: 0}, 0, 0},
		{"oversold counters never go negative", catalog.Product{Stock: ptr(10), Available: -2}, 0, 0},
		{"per-player limit, nothing bought", catalog.Product{PerPlayerLimit: ptr(3)}, 0, 3},
		{"per-player limit, some bought", catalog.Product{PerPlayerLimit: ptr(3)}, 2, 1},
		{"per-player limit reached", catalog.Product{PerPlayerLimit: ptr(1)}, 1, 0},
		{"limit lowered below what was bought", catalog.Product{PerPlayerLimit: ptr(1)}, 5, 0},
		{"stock smaller than the allowance", catalog.Product{Stock: ptr(10), Available: 1, PerPlayerLimit: ptr(5)}, 0, 1},
		{"allowance smaller than the stock", catalog.Product{Stock: ptr(10), Available: 8, PerPlayerLimit: ptr(5)}, 3, 2},
		{"big stock capped", catalog.Product{Stock: ptr(1 << 40), Available: 1 << 40}, 0, validate.MaxQuantity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := catalog.Allowance(tt.p, tt.bought); got != tt.want {
				t.Errorf("Allowance = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestList(t *testing.T) {
	cat := shopCatalog()
	tests := []struct {
		name     string
		q        catalog.ListingQuery
		currency string
		want     string // product ids with their allowance, locked ones as info:<id>
		unpriced string
	}{
		{"default currency", catalog.ListingQuery{}, "USD", "a=10000 b=0 c=2 info:d info:f", ""},
		{"default currency set", catalog.ListingQuery{DefaultCurrency: "JPY"}, "JPY", "a=10000 info:d info:f", "b c"},
		{"region currency", catalog.ListingQuery{Region: "DE"}, "EUR", "a=10000 c=2 info:d info:f", "b"},
		{"EU region", catalog.ListingQuery{Region: "EU"}, "EUR", "a=10000 c=2 info:d info:f", "b"},
		{"region whose currency nothing listed is priced in", catalog.ListingQuery{Region: "GB"}, "USD", "a=10000 b=0 c=2 info:d info:f", ""},
		{"unmapped region", catalog.ListingQuery{Region: "ZZ"}, "USD", "a=10000 b=0 c=2 info:d info:f", ""},
		{"currency asked for wins over region", catalog.ListingQuery{Region: "DE", Currency: "JPY"}, "JPY", "a=10000 info:d info:f", "b c"},
		{"player's counts", catalog.ListingQuery{Bought: map[string]int64{"c": 2, "a": 7}}, "USD", "a=10000 b=0 c=0 info:d info:f", ""},
		{"player's counts, some left", catalog.ListingQuery{Bought: map[string]int64{"c": 1}}, "USD", "a=10000 b=0 c=1 info:d info:f", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := catalog.List(cat, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if l.Currency != tt.currency {
				t.Errorf("currency %s, want %s", l.Currency, tt.currency)
			}
			if got := strings.Join(l.Unpriced, " "); got != tt.unpriced {
				t.Errorf("unpriced %q, want %q", got, tt.unpriced)
			}
			var got []string
			for _, e := range l.Entries {
				switch {
				case e.Display && (e.Price != 0 || e.Allowance != 0):
					t.Errorf("%s: display-only entry with price %d and allowance %d", e.Product.ProductID, e.Price, e.Allowance)
				case e.Display:
					got = append(got, "info:"+e.Product.ProductID)
				default:
					if e.Price != e.Product.Prices[l.Currency] {
						t.Errorf("%s: price %d, want its %s price %d", e.Product.ProductID, e.Price, l.Currency, e.Product.Prices[l.Currency])
					}
					got = append(got, fmt.Sprintf("%s=%d", e.Product.ProductID, e.Allowance))
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("entries %v, want %s", got, tt.want)
			}
		})
	}
}

func TestListCurrencyNobodyPricesIn(t *testing.T) {
	_, err := catalog.List(shopCatalog(), catalog.ListingQuery{Currency: "GBP"})
	var r *refusal.Error
	if !errors.Is(err, catalog.ErrNotPriced) || !errors.As(err, &r) || r.Message != "no product is priced in GBP" {
		t.Fatalf("error %v, want the refusal ErrNotPriced (only an inactive product is priced in GBP)", err)
	}
}

func TestFind(t *testing.T) {
	cat := shopCatalog()
	tests := []struct {
		name      string
		q         offerQuery
		want      string // product id; "" for 404
		wantError string
	}{
		{"by productId", offerQuery{ProductID: "a"}, "a", ""},
		{"by guid", offerQuery{GUID: "g-a"}, "a", ""},
		{"both, matching", offerQuery{ProductID: "a", GUID: "g-a"}, "a", ""},
		{"product without guid: Stash's generated guid accepted", offerQuery{ProductID: "b", GUID: "0b3b7d51-3c1e-5b4a-9c3a-1f0e2d3c4b5a"}, "b", ""},
		{"locked products are listed", offerQuery{ProductID: "d"}, "d", ""},
		{"sold-out products are listed", offerQuery{ProductID: "b"}, "b", ""},
		{"guid of another product", offerQuery{ProductID: "a", GUID: "g-d"}, "", "guid g-d is not the guid of product a"},
		{"product without guid: another product's guid", offerQuery{ProductID: "b", GUID: "g-a"}, "", "guid g-a is not the guid of product b"},
		{"product without guid: a locked product's guid", offerQuery{ProductID: "b", GUID: "g-d"}, "", "guid g-d is not the guid of product b"},
		{"product without guid: a removed product's guid", offerQuery{ProductID: "f", GUID: "g-e"}, "", "guid g-e is not the guid of product f"},
		{"product with guid: a guid naming no product", offerQuery{ProductID: "a", GUID: "g-zz"}, "", "guid g-zz is not the guid of product a"},
		{"unknown productId", offerQuery{ProductID: "zz"}, "", "no offer with productId zz"},
		{"unknown guid", offerQuery{GUID: "g-zz"}, "", "no offer with guid g-zz"},
		{"inactive product", offerQuery{ProductID: "e"}, "", "no offer"},
		{"inactive product by guid", offerQuery{GUID: "g-e"}, "", "no offer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := catalog.Find(cat, tt.q.ProductID, tt.q.GUID)
			if tt.want != "" {
				if err != nil || p.ProductID != tt.want {
					t.Fatalf("Find = %s, %v; want %s", p.ProductID, err, tt.want)
				}
				return
			}
			var r *refusal.Error
			if !errors.As(err, &r) || !errors.Is(err, catalog.ErrNoProduct) && !errors.Is(err, catalog.ErrGUIDMismatch) || !strings.Contains(r.Message, tt.wantError) {
				t.Fatalf("error %v, want a refusal (ErrNoProduct or ErrGUIDMismatch) saying %q", err, tt.wantError)
			}
		})
	}
}

func TestRegionCurrency(t *testing.T) {
	for region, cur := range catalog.RegionCurrency {
		if r, err := stashapi.Region("region", region); err != nil || r != region {
			t.Errorf("region %q is not an upper-case 2-letter code", region)
		}
		if c, err := stashapi.Currency("currency", cur); err != nil || c != cur {
			t.Errorf("currency %q of %s is not an upper-case 3-letter code", cur, region)
		}
	}
	for region, want := range map[string]string{"US": "USD", "DE": "EUR", "BG": "EUR", "EU": "EUR", "JP": "JPY", "GB": "GBP"} {
		if got := catalog.RegionCurrency[region]; got != want {
			t.Errorf("%s pays in %s, want %s", region, got, want)
		}
	}
}
