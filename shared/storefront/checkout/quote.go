package checkout

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/money"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/storefront/geo"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

// CartRef names a cart: a session's (Token) or, without a token, a cookie
// cart's lines.
type CartRef struct {
	Store    string
	Token    string // a session's token; or, when empty, a cookie cart:
	Lines    []Line
	Currency string
	Source   string // "marketplace" when the cart came from /market/
	// Secret is a cookie cart's: a random secret of the browser holding it
	// (at least MinCartSecret characters), part of its order's id, so the
	// order and its links are that browser's alone: another browser posting
	// the same cart and buyer gets an order of its own.
	Secret string
}

// MinCartSecret is the shortest CartRef.Secret: 22 characters, 128 random
// bits in base64url.
const MinCartSecret = 22

// Buyer is who pays.
type Buyer struct{ Email, Country, Subdivision string } // Country ISO 3166-1 alpha-2; Subdivision ISO 3166-2 suffix

// QuoteLine is one priced line.
type QuoteLine struct {
	SKU, Name                      string
	Quantity, UnitMinor, LineMinor int64
}

// Problem is a cart line that cannot be sold, and why (shown as Text).
type Problem struct{ SKU, Text string }

func (p Problem) String() string { return p.Text }

// Quote is a priced cart: what is shown is what is charged.
type Quote struct {
	StoreSlug, StoreName, Currency, Locale string
	Lines                                  []QuoteLine
	SubtotalMinor, TaxMinor, TotalMinor    int64       // tax.Compute's, for the buyer's country ("" : no tax yet)
	TaxIncluded                            bool        // the store's prices include the tax (stores.Store.TaxIncluded)
	TaxRate                                tax.Decimal // exact, e.g. "0.2" ("" until a country is known)
	TaxLabel                               string      // e.g. "VAT 20%"
	NeedsSubdivision                       bool        // the country's tax depends on a subdivision not given yet
	Problems                               []Problem
	ExpiresAt                              time.Time // session carts only
	ReturnURLCancel                        string

	// kept for the payment
	externalReference, returnURLSuccess, cartKey, source string
	holder                                               string // a cookie cart's CartRef.Secret
	sessionID, paidOrder                                 string // session carts: the session, and the order that paid it
	lines                                                []Line
	listing                                              stores.Listing
}

// Quote prices cart c for buyer b: its lines at the store's prices in the
// cart's currency, the tax of the buyer's country (and subdivision where
// the country's tax depends on one), the total. Lines that cannot be sold
// (unknown SKU, no price in the currency, a quantity outside 1-100) are
// Problems, not errors. Errors: ErrNoStore, ErrNoSession, ErrSessionExpired,
// ErrInvalid (a cart or buyer that cannot be read at all).
func (s *Service) Quote(ctx context.Context, c CartRef, b Buyer) (Quote, error) {
	if !stores.ValidSlug(c.Store) {
		return Quote{}, refusal.New(ErrNoStore, "no store %q", c.Store)
	}
	q := Quote{StoreSlug: c.Store, Locale: "en", source: stores.SourceCheckout}
	// The store first: an unknown store is "no store" whatever the cart
	// (an empty cart of an unknown store is not an empty cart page).
	listing, err := stores.ReadListing(ctx, s.st.DB, s.st.Tables.Stores, c.Store)
	if err != nil {
		return Quote{}, err
	}
	if !listing.Found {
		return Quote{}, refusal.New(ErrNoStore, "no store %q", c.Store)
	}
	q.StoreName, q.listing = listing.Store.Name, listing
	lines := c.Lines
	if c.Token != "" {
		ss, err := s.session(ctx, c.Store, c.Token)
		if err != nil {
			return Quote{}, err
		}
		lines, q.Currency, q.Locale, q.ExpiresAt = ss.Lines, ss.Currency, ss.Locale, ss.ExpiresAt
		q.ReturnURLCancel, q.returnURLSuccess, q.externalReference = ss.ReturnURLCancel, ss.ReturnURLSuccess, ss.ExternalReference
		q.cartKey = "session:" + ss.ID
		q.sessionID, q.paidOrder = ss.ID, ss.PaidOrder
	} else {
		cur, err := validate.ParseCurrency(c.Currency)
		if err != nil || !money.Known(cur) {
			return Quote{}, refusal.New(ErrInvalid, "the cart's currency must be an ISO 4217 code such as GBP")
		}
		q.Currency = cur
		if c.Source == stores.SourceMarketplace {
			q.source = stores.SourceMarketplace
		}
		lines = stores.MergeLines(lines)
		if len(lines) == 0 {
			return Quote{}, refusal.New(ErrInvalid, "the cart is empty")
		}
		if len(lines) > MaxLines {
			return Quote{}, refusal.New(ErrInvalid, "the cart has %d products; at most %d", len(lines), MaxLines)
		}
		parts := []string{"cart", q.Currency, q.source}
		for _, l := range lines {
			parts = append(parts, l.SKU, fmt.Sprint(l.Quantity))
		}
		q.cartKey, q.holder = strings.Join(parts, "\x00"), c.Secret
	}
	for _, l := range lines {
		p, ok := listing.Products[l.SKU]
		switch {
		case !ok || !p.Active:
			q.Problems = append(q.Problems, Problem{l.SKU, fmt.Sprintf("%s is not a product of this store", l.SKU)})
			continue
		case !ValidQuantity(l.Quantity):
			q.Problems = append(q.Problems, Problem{l.SKU, fmt.Sprintf("%s: the quantity must be from 1 to %d", l.SKU, MaxQuantity)})
			continue
		}
		unit, ok := p.Prices[q.Currency]
		if !ok {
			q.Problems = append(q.Problems, Problem{l.SKU, fmt.Sprintf("%s has no price in %s", l.SKU, q.Currency)})
			continue
		}
		// A price is at most money.MaxMinor and a quantity 100: a line fits
		// an int64; the sum is kept at most MaxMinor + 1 (too large).
		line := unit * l.Quantity
		q.Lines = append(q.Lines, QuoteLine{SKU: l.SKU, Name: p.Name, Quantity: l.Quantity, UnitMinor: unit, LineMinor: line})
		q.lines = append(q.lines, l)
		q.SubtotalMinor = min(q.SubtotalMinor+min(line, money.MaxMinor+1), money.MaxMinor+1)
	}
	q.TaxIncluded = listing.Store.TaxIncluded(q.Currency)
	if err := q.tax(b); err != nil {
		return Quote{}, err
	}
	a, err := tax.Compute(q.SubtotalMinor, q.TaxRate, q.TaxIncluded)
	if err != nil {
		return Quote{}, refusal.New(ErrInvalid, "the cart's total is above the largest amount (%d minor units)", int64(money.MaxMinor))
	}
	q.TaxMinor, q.TotalMinor = a.TaxMinor, a.TotalMinor
	return q, nil
}

// Amounts are the quote's subtotal, tax and total (tax.Compute's).
func (q Quote) Amounts() tax.Amounts {
	return tax.Amounts{SubtotalMinor: q.SubtotalMinor, TaxMinor: q.TaxMinor, TotalMinor: q.TotalMinor, Included: q.TaxIncluded}
}

// tax finds the buyer's rate (the country's plus, where the country's
// tax depends on one, the subdivision's) and its label; Quote computes the
// tax with it (tax.Compute: once per order, half up).
func (q *Quote) tax(b Buyer) error {
	if b.Country == "" {
		return nil
	}
	country, err := geo.Country("country", b.Country)
	if err != nil {
		return refusal.New(ErrInvalid, "%v", err)
	}
	c, known := tax.Data.Countries[country]
	sub := strings.ToUpper(b.Subdivision)
	if known && len(c.Subdivisions) > 0 && sub == "" {
		q.NeedsSubdivision = true
	}
	rates, err := tax.For(country, sub)
	if err != nil {
		return refusal.New(ErrInvalid, "%v", err)
	}
	var labels []string
	for _, r := range rates.Rates {
		if r.Level == "subdivision" && sub == "" {
			continue
		}
		q.TaxRate = q.TaxRate.Add(r.Rate)
		labels = append(labels, fmt.Sprintf("%s %s%%", strings.ToUpper(strings.ReplaceAll(r.Type, "_", " ")), r.Rate.Percent()))
	}
	sort.Strings(labels)
	q.TaxLabel = strings.Join(labels, " + ")
	if q.TaxRate.Rat().Sign() < 0 {
		return fmt.Errorf("checkout: the tax rate of %s-%s adds up to %s", country, sub, q.TaxRate) // the data's error, not the buyer's
	}
	return nil
}
