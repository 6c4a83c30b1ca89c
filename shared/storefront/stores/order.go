package stores

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

// Line is one SKU of a fulfilment and how many keys it needs.
type Line struct {
	SKU      string
	Quantity int64
}

// FulfilRequest is a licensing fulfilment: the store's customer paid
// elsewhere (ExternalReference names that payment) and is owed keys.
type FulfilRequest struct {
	Store             string
	APIKey            string // as presented (Bearer); only its digest is used
	CustomerEmail     string // optional
	ExternalReference string
	Currency          string // ISO 4217, upper case
	TotalMinor        int64
	Items             []Line // at least one; SKUs distinct (MergeLines)
}

// MergeLines merges lines of the same SKU (quantities added) and sorts them
// by SKU: the one form of an order's lines, so the same purchase sent with
// its lines in another order is the same fulfilment.
func MergeLines(lines []Line) []Line {
	by := map[string]int64{}
	for _, l := range lines {
		by[l.SKU] += l.Quantity
	}
	out := make([]Line, 0, len(by))
	for sku, q := range by {
		out = append(out, Line{SKU: sku, Quantity: q})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
	return out
}

// Price checks recorded on an order: payment was taken elsewhere, so a
// total that differs from the store's prices is recorded, never refused.
const (
	PriceMatch    = "match"    // total_minor equals the store's prices times quantities
	PriceMismatch = "mismatch" // it differs (expected_total_minor says by how much)
	PriceUnpriced = "unpriced" // some product has no price in the currency: nothing to compare
)

// Order statuses. An order of the licensing API is made fulfilled; a
// checkout order is placed pending and fulfilled when its payment is
// confirmed, unless it was refunded, cancelled or disputed first.
const (
	StatusPending           = "pending"
	StatusFulfilled         = "fulfilled"
	StatusRefunded          = "refunded"
	StatusPartiallyRefunded = "partially_refunded"
	StatusCancelled         = "cancelled"
)

// Order sources: where an order was made.
const (
	SourceAPI         = "api"         // the licensing fulfil API
	SourceCheckout    = "checkout"    // a checkout session or an add-to-cart link
	SourceMarketplace = "marketplace" // a cart filled on /market/
)

// OrderItem is one line of an order.
type OrderItem struct {
	SKU            string
	Quantity       int64
	UnitPriceMinor *int64 // the store's price in the order's currency, when it has one
	LicenseKeys    []string
}

// Order is an order: a licensing fulfilment's (fulfilled when made) or a
// checkout's (placed pending; Fulfilled once its payment succeeded).
type Order struct {
	ID, Store          string
	ExternalReference  string
	Status             string
	CustomerEmail      string
	Currency           string
	TotalMinor         int64
	ExpectedTotalMinor *int64 // from the store's prices, nil when unpriced
	PriceCheck         string
	Items              []OrderItem
	Source             string // SourceAPI, SourceCheckout or SourceMarketplace ("" reads as api)
	RefundedMinor      int64  // refunded so far
	KeysRevoked        bool   // refunded: the order's keys are no longer valid
	Dispute            string // the PSP's dispute status ("" none)
	Fulfilled          bool   // its keys are allocated
	// Tax is a checkout order's tax as quoted and charged (nil: an order
	// of the licensing API, whose store charged elsewhere).
	Tax         *OrderTax
	CreatedAt   time.Time
	UpdatedAt   time.Time
	fingerprint string
	// claims are the ranges of keys the order owns; hasClaims false: none
	// recorded on the order (not fulfilled, or fulfilled before pools had
	// shards: its product rows record them).
	claims    []Claim
	hasClaims bool
}

// OrderTax is how a checkout order's total was made (tax.Compute): kept
// with the order so a page, an event or a receipt reads it, never
// computes it again.
type OrderTax struct {
	SubtotalMinor int64       `json:"subtotalMinor"`
	TaxMinor      int64       `json:"taxMinor"`
	Included      bool        `json:"included"` // the prices include the tax (total = subtotal)
	Rate          tax.Decimal `json:"rate"`     // the buyer's rate, exact (0.2)
	Label         string      `json:"label"`    // e.g. "VAT 20%"
}

// Amounts are the order's subtotal, tax and total, as charged: for a
// checkout order what its Tax recorded; for another order (known false)
// the total alone, as subtotal, without tax.
func (o Order) Amounts() (a tax.Amounts, known bool) {
	if o.Tax == nil {
		return tax.Amounts{SubtotalMinor: o.TotalMinor, TotalMinor: o.TotalMinor}, false
	}
	return tax.Amounts{SubtotalMinor: o.Tax.SubtotalMinor, TaxMinor: o.Tax.TaxMinor, TotalMinor: o.TotalMinor, Included: o.Tax.Included}, true
}

// SetFingerprint sets the idempotency fingerprint of an order placed by
// another package (the same placement again must carry the same one).
func (o *Order) SetFingerprint(f string) { o.fingerprint = f }

// Fingerprint is the order's idempotency fingerprint.
func (o Order) Fingerprint() string { return o.fingerprint }

// fingerprint is the digest of what a fulfilment asks: the same reference
// with another fingerprint is a conflict.
func (r FulfilRequest) fingerprint() string {
	parts := []string{r.CustomerEmail, r.Currency, strconv.FormatInt(r.TotalMinor, 10)}
	for _, l := range r.Items {
		parts = append(parts, l.SKU, strconv.FormatInt(l.Quantity, 10))
	}
	return dynamo.Fingerprint(parts...)
}

// differences names the fields in which r differs from the stored order.
func (r FulfilRequest) differences(o Order) []string {
	var d []string
	if r.CustomerEmail != o.CustomerEmail {
		d = append(d, "customer_email")
	}
	same := len(r.Items) == len(o.Items)
	for i := 0; same && i < len(r.Items); i++ {
		same = r.Items[i].SKU == o.Items[i].SKU && r.Items[i].Quantity == o.Items[i].Quantity
	}
	if !same {
		d = append(d, "items")
	}
	if r.Currency != o.Currency {
		d = append(d, "currency")
	}
	if r.TotalMinor != o.TotalMinor {
		d = append(d, "total_minor")
	}
	return d
}

// storedLine is an order line as the order item keeps it (keys are not
// kept there: they are found from the pool's claims).
type storedLine struct {
	SKU            string `json:"sku"`
	Quantity       int64  `json:"quantity"`
	UnitPriceMinor *int64 `json:"unitPriceMinor,omitempty"`
}

func (o Order) item() map[string]types.AttributeValue {
	lines := make([]storedLine, len(o.Items))
	for i, it := range o.Items {
		lines[i] = storedLine{SKU: it.SKU, Quantity: it.Quantity, UnitPriceMinor: it.UnitPriceMinor}
	}
	js, _ := json.Marshal(lines) // plain structs: cannot fail
	item := map[string]types.AttributeValue{
		dynamo.AttrPK:        dynamo.S(orderPK(o.Store, o.ID)),
		dynamo.AttrSK:        dynamo.S(skOrder),
		attrKeyID:            dynamo.S(o.ID),
		attrStore:            dynamo.S(o.Store),
		"externalReference":  dynamo.S(o.ExternalReference),
		"status":             dynamo.S(o.Status),
		"currency":           dynamo.S(o.Currency),
		"totalMinor":         dynamo.N(o.TotalMinor),
		"priceCheck":         dynamo.S(o.PriceCheck),
		"lines":              dynamo.S(string(js)),
		attrFingerprint:      dynamo.S(o.fingerprint),
		dynamo.AttrCreatedAt: dynamo.Time(o.CreatedAt),
		attrUpdatedAt:        dynamo.Time(o.UpdatedAt),
	}
	if o.CustomerEmail != "" {
		item["customerEmail"] = dynamo.S(o.CustomerEmail)
	}
	if o.Source != "" {
		item["source"] = dynamo.S(o.Source)
	}
	if o.ExpectedTotalMinor != nil {
		item["expectedTotalMinor"] = dynamo.N(*o.ExpectedTotalMinor)
	}
	if o.hasClaims {
		item[attrClaims] = claimsAttr(o.claims)
	}
	if o.Tax != nil {
		js, _ := json.Marshal(o.Tax) // plain struct: cannot fail
		item[attrTax] = dynamo.S(string(js))
	}
	for k, v := range o.indexAttrs() { // the order index (orderindex.go)
		item[k] = v
	}
	return item
}

func orderFromItem(item map[string]types.AttributeValue) (Order, error) {
	o := Order{
		ID: dynamo.StringAttr(item[attrKeyID]), Store: dynamo.StringAttr(item[attrStore]),
		ExternalReference: dynamo.StringAttr(item["externalReference"]), Status: dynamo.StringAttr(item["status"]),
		CustomerEmail: dynamo.StringAttr(item["customerEmail"]), Currency: dynamo.StringAttr(item["currency"]),
		PriceCheck: dynamo.StringAttr(item["priceCheck"]), fingerprint: dynamo.StringAttr(item[attrFingerprint]),
		Source: dynamo.StringAttr(item["source"]), Dispute: dynamo.StringAttr(item[attrDispute]),
		KeysRevoked: dynamo.BoolAttr(item[attrKeysRevoked]),
	}
	if o.Source == "" {
		o.Source = SourceAPI
	}
	o.Fulfilled = o.Status == StatusFulfilled || item[attrFulfilledAt] != nil
	if v, ok := item[attrRefundedMinor]; ok {
		o.RefundedMinor, _ = dynamo.IntAttr(v)
	}
	if o.ID == "" {
		return Order{}, fmt.Errorf("order item %q has no id", dynamo.StringAttr(item[dynamo.AttrPK]))
	}
	var err error
	if o.TotalMinor, err = dynamo.IntAttr(item["totalMinor"]); err != nil {
		return Order{}, fmt.Errorf("order %s: totalMinor %w", o.ID, err)
	}
	if v, ok := item["expectedTotalMinor"]; ok {
		n, err := dynamo.IntAttr(v)
		if err != nil {
			return Order{}, fmt.Errorf("order %s: expectedTotalMinor %w", o.ID, err)
		}
		o.ExpectedTotalMinor = &n
	}
	if o.CreatedAt, err = dynamo.TimeAttr(item[dynamo.AttrCreatedAt]); err != nil {
		return Order{}, fmt.Errorf("order %s: %w", o.ID, err)
	}
	if o.UpdatedAt, err = dynamo.TimeAttr(item[attrUpdatedAt]); err != nil {
		return Order{}, fmt.Errorf("order %s: %w", o.ID, err)
	}
	if o.claims, o.hasClaims, err = claimsFromAttr(item[attrClaims]); err != nil {
		return Order{}, fmt.Errorf("order %s: %w", o.ID, err)
	}
	if v := dynamo.StringAttr(item[attrTax]); v != "" {
		o.Tax = &OrderTax{}
		if err := json.Unmarshal([]byte(v), o.Tax); err != nil {
			return Order{}, fmt.Errorf("order %s: tax: %w", o.ID, err)
		}
	}
	var lines []storedLine
	if err := json.Unmarshal([]byte(dynamo.StringAttr(item["lines"])), &lines); err != nil {
		return Order{}, fmt.Errorf("order %s: lines: %w", o.ID, err)
	}
	for _, l := range lines {
		o.Items = append(o.Items, OrderItem{SKU: l.SKU, Quantity: l.Quantity, UnitPriceMinor: l.UnitPriceMinor})
	}
	return o, nil
}

// priceCheck compares the paid total with the store's prices.
func priceCheck(products map[string]Product, r FulfilRequest) ([]OrderItem, *int64, string) {
	items := make([]OrderItem, len(r.Items))
	var expected int64
	priced := true
	for i, l := range r.Items {
		items[i] = OrderItem{SKU: l.SKU, Quantity: l.Quantity}
		p, ok := products[l.SKU].Prices[r.Currency]
		if !ok {
			priced = false
			continue
		}
		items[i].UnitPriceMinor = &p
		expected += p * l.Quantity
	}
	switch {
	case !priced:
		return items, nil, PriceUnpriced
	case expected != r.TotalMinor:
		return items, &expected, PriceMismatch
	}
	return items, &expected, PriceMatch
}

// Units is the number of units (license keys) items hold.
func Units(items []OrderItem) int64 {
	var n int64
	for _, it := range items {
		n += it.Quantity
	}
	return n
}
