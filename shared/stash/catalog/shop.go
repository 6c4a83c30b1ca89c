package catalog

import (
	"errors"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

// The shop's rules: which products are listed, at what price and in which
// currency, how many units a player may still buy, and whether a product
// named by a purchase can be bought. Stash's lookups and the purchase flow
// both ask these.

// Reasons a product is refused (the Reason of a *refusal.Error from Find and
// List; Sellable returns them bare).
var (
	// ErrNoProduct: no listed (active) product has that productId or guid.
	ErrNoProduct = errors.New("no such product")
	// ErrGUIDMismatch: the product exists but has another guid than the one sent.
	ErrGUIDMismatch = errors.New("guid does not match productId")
	// ErrLocked: listed but not purchasable now.
	ErrLocked = errors.New("product is not purchasable now")
	// ErrNotPriced: the product, or the whole shop, has no price in the currency.
	ErrNotPriced = errors.New("not priced in that currency")
)

// Find returns the listed (active) product a purchase or lookup names: by
// productId, or by guid when productId is empty. When both are sent, the
// guid must be the product's own; a product without a guid also accepts a
// guid that names no product (Stash generates guids for products the studio
// gave none), but never the guid of another product, listed or not.
// Otherwise it refuses (ErrNoProduct, ErrGUIDMismatch).
func Find(c *Catalog, productID, guid string) (Product, error) {
	p, ok := Lookup(c, productID, guid)
	switch {
	case (!ok || !p.Active) && productID != "":
		return Product{}, refusal.New(ErrNoProduct, "no offer with productId %s", productID)
	case !ok || !p.Active:
		return Product{}, refusal.New(ErrNoProduct, "no offer with guid %s", guid)
	case productID == "" || guid == "" || guid == p.GUID:
		return p, nil
	}
	if p.GUID == "" {
		if other, named := c.ByGUID(guid); !named || other.ProductID == p.ProductID {
			return p, nil // a guid Stash generated for this product
		}
	}
	return Product{}, refusal.New(ErrGUIDMismatch, "guid %s is not the guid of product %s", guid, productID)
}

// Sellable reports whether a listed product can be bought now in cur: nil,
// ErrLocked or ErrNotPriced.
func Sellable(p Product, cur string) error {
	if p.Locked {
		return ErrLocked
	}
	if _, ok := p.Prices[cur]; !ok {
		return ErrNotPriced
	}
	return nil
}

// PricedAt reports whether p sells at cents in cur: a purchase names the
// price it charges, and it must still be the catalog's.
func PricedAt(p Product, cur string, cents int64) bool {
	price, ok := p.Prices[cur]
	return ok && price == cents
}

// Allowance is how many units of p a player who holds bought units (bought
// or reserved) may buy now: the units left (limited stock), the player's
// remaining per-player allowance, and at most validate.MaxQuantity (the most
// one purchase line holds), whichever is
// smallest; never below 0.
func Allowance(p Product, bought int64) int64 {
	n := int64(validate.MaxQuantity)
	if left, limited := p.Remaining(); limited {
		n = min(n, left)
	}
	if p.PerPlayerLimit != nil {
		n = min(n, *p.PerPlayerLimit-bought)
	}
	return max(n, 0)
}

// Listing is what the shop shows one player: every active product, in
// productId order, priced in one currency.
type Listing struct {
	Currency string
	Entries  []Entry
	Unpriced []string // active, unlocked products left out: not priced in Currency
}

// Entry is one listed product. A locked product is shown (Display) but not
// sold; otherwise Price is its price in the listing's currency and
// Allowance how many units the player may still buy (0: shown, sold out or
// at the limit).
type Entry struct {
	Product   Product
	Display   bool
	Price     int64
	Allowance int64
}

// ListingQuery says whose listing and in which currency.
type ListingQuery struct {
	PlayerID        string           // whose counts Shop.Listing reads ("": nobody's)
	Currency        string           // the currency asked for; "" picks one by Region
	Region          string           // ISO 3166-1 alpha-2 (or "EU"), upper case
	DefaultCurrency string           // when neither decides; "" means USD
	Bought          map[string]int64 // units the player holds bought or reserved (nil: none)
}

// List builds the listing of q from c. A product not priced in the
// listing's currency is left out (a cart is in one currency). It fails with
// ErrNotPriced when q names a currency nothing is priced in.
func List(c *Catalog, q ListingQuery) (Listing, error) {
	cur, err := listingCurrency(c, q)
	if err != nil {
		return Listing{}, err
	}
	l := Listing{Currency: cur, Entries: []Entry{}}
	for _, p := range c.Products() {
		if !p.Active {
			continue
		}
		switch err := Sellable(p, cur); {
		case errors.Is(err, ErrLocked):
			l.Entries = append(l.Entries, Entry{Product: p, Display: true})
		case errors.Is(err, ErrNotPriced):
			l.Unpriced = append(l.Unpriced, p.ProductID)
		default:
			l.Entries = append(l.Entries, Entry{Product: p, Price: p.Prices[cur], Allowance: Allowance(p, q.Bought[p.ProductID])})
		}
	}
	return l, nil
}

// listingCurrency: the currency asked for (refused when no listed product
// is priced in it), else the region's currency when some listed product is
// priced in it, else the default.
func listingCurrency(c *Catalog, q ListingQuery) (string, error) {
	if q.Currency != "" {
		if !pricedIn(c, q.Currency) {
			return "", refusal.New(ErrNotPriced, "no product is priced in %s", q.Currency)
		}
		return q.Currency, nil
	}
	if cur, ok := RegionCurrency[q.Region]; ok && pricedIn(c, cur) {
		return cur, nil
	}
	if q.DefaultCurrency == "" {
		return "USD", nil
	}
	return q.DefaultCurrency, nil
}

func pricedIn(c *Catalog, cur string) bool {
	for _, p := range c.Products() {
		if p.Active && Sellable(p, cur) == nil {
			return true
		}
	}
	return false
}

// RegionCurrency maps an ISO 3166-1 alpha-2 region (and "EU") to the
// currency players there pay in. A region it lacks is priced in the
// default currency.
var RegionCurrency = func() map[string]string {
	m := map[string]string{
		"EU": "EUR", "US": "USD", "PR": "USD", "EC": "USD", "SV": "USD", "PA": "USD",
		"CA": "CAD", "MX": "MXN", "BR": "BRL", "AR": "ARS", "CL": "CLP", "CO": "COP", "PE": "PEN", "UY": "UYU",
		"GB": "GBP", "CH": "CHF", "LI": "CHF", "NO": "NOK", "SE": "SEK", "DK": "DKK", "IS": "ISK",
		"PL": "PLN", "CZ": "CZK", "HU": "HUF", "RO": "RON", "RS": "RSD", "TR": "TRY", "UA": "UAH",
		"IL": "ILS", "AE": "AED", "SA": "SAR", "QA": "QAR", "KW": "KWD", "EG": "EGP", "ZA": "ZAR", "NG": "NGN", "KE": "KES", "MA": "MAD",
		"IN": "INR", "PK": "PKR", "ID": "IDR", "JP": "JPY", "KR": "KRW", "CN": "CNY", "HK": "HKD", "TW": "TWD",
		"SG": "SGD", "MY": "MYR", "TH": "THB", "PH": "PHP", "VN": "VND", "AU": "AUD", "NZ": "NZD", "KZ": "KZT",
	}
	// The euro area (Bulgaria since 2026) and the microstates using the euro.
	for _, r := range strings.Fields("AT BE BG CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK AD MC SM VA ME XK") {
		m[r] = "EUR"
	}
	return m
}()
