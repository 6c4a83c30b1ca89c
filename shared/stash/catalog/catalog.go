// Package catalog holds the products a game sells: a catalog file that the
// studio edits, its import into the catalog table (CatalogTable), and the
// per-container cache the purchase endpoints read products from.
//
// # The catalog file
//
// A JSON object with one key, "products", listing every product on sale:
//
//	{
//	  "products": [
//	    {
//	      "productId": "gem_pack_small",
//	      "guid": "8d2f6c1e-0b7a-4c43-9a52-3f1e7d0c9b11",
//	      "name": "Handful of Gems",
//	      "description": "100 gems.",
//	      "imageUrl": "https://cdn.example.com/gems/small.png",
//	      "prices": {"USD": 199, "EUR": 189, "JPY": 300},
//	      "stock": 500,
//	      "perPlayerLimit": 1,
//	      "locked": false,
//	      "metadata": {"gems": "100"}
//	    }
//	  ]
//	}
//
// Fields of a product:
//
//	productId       required. 1–128 printable characters, unique in the file. The id
//	                Stash sends in purchases; it never changes.
//	guid            optional string (1–128 printable characters), unique in the file
//	                when present; products can be looked up by it.
//	name            required, at most 256 characters.
//	description     optional, at most 4096 characters.
//	imageUrl        optional, an absolute http:// or https:// URL (at most 2048 characters).
//	prices          required, at least one entry: ISO 4217 currency code (3 upper-case
//	                letters) → amount in integer minor units (>= 0) of that currency:
//	                cents for USD (199 = $1.99), yen for JPY (300 = ¥300).
//	stock           optional integer >= 0: the total number of units ever for sale
//	                (limited inventory). Absent: unlimited.
//	perPlayerLimit  optional integer >= 1: the most units one player may ever buy.
//	                Absent: no limit.
//	locked          optional boolean: true = listed but not purchasable now.
//	metadata        optional object of string → string (at most 50 entries, keys 1–128
//	                characters, values at most 1024 characters), for the game's own use.
//
// The file must list at least one product. A field the format does not know
// (a typo such as "perPlayerLimt", or "ProductId" in the wrong case) is an
// error, and so is a value of the wrong type: numbers must be integers, not
// strings or fractions. ParseFile reports every problem at once, each with its
// location, e.g. "products[3].prices.usd: currency must be 3 upper-case
// letters". A JSON null is the same as an absent optional field.
//
// # Importing
//
// Import writes a file to the catalog table, one row per product (pk =
// productId). It changes only what the file changes and never loses a
// purchase: stock counters that purchases maintain are adjusted by a delta or
// recomputed under a condition, never overwritten from a stale read. A
// product that disappears from the file is deactivated (its row is kept, with
// its sales); it is reactivated when it comes back. Running the same import
// twice writes nothing the second time. Diff reports what Import would do
// without writing (cmd/catalog --dry-run).
//
// # The table row
//
//	pk              S     productId
//	productId       S
//	guid, name, description, imageUrl   S (absent when empty)
//	prices          M     currency → N (minor units)
//	metadata        M     of S (absent when none)
//	unlimited       BOOL  true when the file has no stock
//	stock           N     configured total (absent when unlimited)
//	available       N     limited: stock − reserved − sold (purchases ADD to it);
//	                      unlimited: kept up to date by purchases too, but meaningless
//	reserved, sold  N     counters maintained by purchases
//	perPlayerLimit  N     (absent when none)
//	locked, active  BOOL  always present; active = false once removed from the file
//	version         N     1 at creation, +1 on every import that changes the row
//	updatedAt       S     RFC 3339 (nanoseconds), time of the last import change
package catalog

import (
	"cmp"
	"slices"
	"time"
)

// Product is one product of the catalog: its definition (from the file) and,
// when read from the table, its state.
type Product struct {
	ProductID, GUID, Name, Description, ImageURL string
	// Prices maps an ISO 4217 code to the amount in minor units.
	Prices         map[string]int64
	Stock          *int64 // nil = unlimited
	PerPlayerLimit *int64 // nil = none
	Locked         bool
	Metadata       map[string]string

	// Filled from the table only (zero when parsed from a file):
	Active         bool
	Available      int64 // meaningful only when Stock != nil
	Reserved, Sold int64
	Version        int64
	UpdatedAt      time.Time
}

// Unlimited reports whether the product has no stock limit.
func (p Product) Unlimited() bool { return p.Stock == nil }

// Remaining returns how many units are left for a limited product (its
// available count, never below zero) and limited = true; an unlimited product
// returns 0, false.
func (p Product) Remaining() (n int64, limited bool) {
	if p.Stock == nil {
		return 0, false
	}
	return max(p.Available, 0), true
}

// Catalog is an immutable snapshot of the catalog table. The maps inside the
// Products it returns are shared by every reader: do not modify them.
type Catalog struct {
	byID     map[string]Product
	byGUID   map[string]Product
	sorted   []Product
	loadedAt time.Time
}

// NewCatalog builds a snapshot of products, loaded now. Inactive products
// are kept (Products lists them; check Active before selling). When two
// products share a guid (a guid moved from a removed product to a new one),
// ByGUID prefers the active one, then the smaller productId.
func NewCatalog(products []Product) *Catalog {
	return newCatalogAt(products, time.Now())
}

func newCatalogAt(products []Product, loadedAt time.Time) *Catalog {
	c := &Catalog{
		byID:     make(map[string]Product, len(products)),
		byGUID:   make(map[string]Product, len(products)),
		loadedAt: loadedAt,
	}
	for _, p := range products {
		c.byID[p.ProductID] = p
	}
	c.sorted = make([]Product, 0, len(c.byID))
	for _, p := range c.byID {
		c.sorted = append(c.sorted, p)
	}
	slices.SortFunc(c.sorted, func(a, b Product) int { return cmp.Compare(a.ProductID, b.ProductID) })
	for _, p := range c.sorted {
		if p.GUID == "" {
			continue
		}
		if prev, ok := c.byGUID[p.GUID]; ok && (prev.Active || !p.Active) {
			continue // sorted: prev has the smaller id
		}
		c.byGUID[p.GUID] = p
	}
	return c
}

// ByID returns the product with productID.
func (c *Catalog) ByID(productID string) (Product, bool) {
	p, ok := c.byID[productID]
	return p, ok
}

// ByGUID returns the product with guid (see NewCatalog for shared guids).
func (c *Catalog) ByGUID(guid string) (Product, bool) {
	if guid == "" {
		return Product{}, false
	}
	p, ok := c.byGUID[guid]
	return p, ok
}

// Products returns every product, inactive ones included, sorted by
// productId. The slice is the caller's.
func (c *Catalog) Products() []Product { return slices.Clone(c.sorted) }

// Len returns the number of products, inactive ones included.
func (c *Catalog) Len() int { return len(c.sorted) }

// LoadedAt returns when the snapshot was read.
func (c *Catalog) LoadedAt() time.Time { return c.loadedAt }

// Lookup finds a product by productID when it is not empty, else by guid.
func Lookup(c *Catalog, productID, guid string) (Product, bool) {
	if productID != "" {
		return c.ByID(productID)
	}
	return c.ByGUID(guid)
}
