// Package stores owns the StoresTable of the store platform: stores, their
// API keys (digests only), products with the counters of their license-key
// pools, the numbered license keys, and orders. It holds the rules of
// licensing fulfilment (Fulfiller) and of the tools that manage stores
// (Import, CreateKey, RevokeKey, ImportLicenseKeys) and of the partner
// portal's store pages (UpdateSettings, RotateWebhookSecret, SendTestEvent,
// CreateProduct, UpdateProduct, UploadLicenseKeys, PoolLevels). Each
// portal change is one conditional write, or one TransactWriteItems, that
// also carries the audit row the portal passes (an upload of license keys,
// many transactions, writes its audit row first: UploadLicenseKeys).
//
// Item layout (pk, sk; every key a dynamo.Tuple):
//
//	("store", slug), "store"               name, webhookUrl, webhookSecretRef (a reference; never the secret), webhookSignatureHeader,
//	                                       pricesIncludeTax (absent: by currency), supportEmail, emailBuyers, lowStockThreshold,
//	                                       webhookSecretPreviousRef, webhookSecretPreviousUntil (Unix ms), webhookSecretRotation
//	("store", slug), ("apikey", id)        digest, mode, createdAt, revokedAt, name, prefix, lastUsedAt (Unix ms):
//	                                       the store's list of keys
//	("apikey", digest), "apikey"           store, id, mode, createdAt, revokedAt: the lookup by digest
//	("store", slug), ("product", sku)      name, prices {ISO 4217: minor units}, marketplace, active,
//	                                       keysTotal, poolShards, poolShardsSetting (pool.go)
//	("order", slug, orderId), "order"      the order, its idempotency fingerprint, its claims and a checkout
//	                                       order's tax (subtotal, tax, included, rate, label: OrderTax);
//	                                       ordersPk/ordersSk and a buyer's marketPk/marketSk (orderindex.go)
//	("daystat", slug, yyyy-mm-dd), "daystat" a closed day's sales per currency (overview.go)
//
// License keys live in the pool's shards (pool.go): a fulfilment claims a
// range of a shard with one conditional cursor update inside the
// transaction that writes the order, and the order row records the range.
//
// Pools imported before shards kept their counters on the product row
// (keysAvailable, keysClaimed, "claim:<orderId>": an order's first key
// number) and their keys in ("pool", slug, sku), "%012d" n. MigratePool
// turns what is left of such a pool into its legacy shard; the claims of
// orders fulfilled before stay on the product row, where order reads find
// them.
package stores

import (
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/apikey"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Attribute names.
const (
	attrName             = "name"
	attrWebhookURL       = "webhookUrl"
	attrWebhookSecretRef = "webhookSecretRef"
	attrWebhookSigHeader = "webhookSignatureHeader"
	attrPricesIncludeTax = "pricesIncludeTax"
	attrTax              = "tax" // an order's OrderTax (JSON)
	attrSupportEmail     = "supportEmail"
	attrLowStock         = "lowStockThreshold"
	attrEmailBuyers      = "emailBuyers"
	attrDigest           = "digest"
	attrStore            = "store"
	attrKeyID            = "id"
	attrMode             = "mode"
	attrRevokedAt        = "revokedAt"
	attrPrices           = "prices"
	attrMarketplace      = "marketplace"
	attrActive           = "active"
	attrKeysTotal        = "keysTotal"
	attrKeysAvailable    = "keysAvailable"
	attrKeysClaimed      = "keysClaimed"
	claimPrefix          = "claim:"
	attrLicenseKey       = "licenseKey"
	attrNumber           = "number"
	attrOrder            = "order"
	attrFingerprint      = "fingerprint"
	attrUpdatedAt        = "updatedAt"
	attrKeyPrefix        = "prefix"
	attrLastUsedAt       = "lastUsedAt"
	// A rotated webhook secret: the previous one's reference, until when
	// (Unix ms) it still signs, and the id of the rotation that made the
	// current one (a retry of it finds it done).
	attrWebhookSecretPrev      = "webhookSecretPreviousRef"
	attrWebhookSecretPrevUntil = "webhookSecretPreviousUntil"
	attrWebhookSecretRotation  = "webhookSecretRotation"
)

const (
	skStore  = "store"
	skAPIKey = "apikey"
	skOrder  = "order"
)

// Reasons of refusals (refusal.Error).
var (
	ErrNoStore              = errors.New("stores: no such store")
	ErrUnauthorized         = errors.New("stores: key missing, wrong, revoked or of another store")
	ErrUnknownSKU           = errors.New("stores: unknown or inactive sku")
	ErrInsufficientKeys     = errors.New("stores: not enough license keys")
	ErrReferenceConflict    = errors.New("stores: external_reference used for a different order")
	ErrNoOrder              = errors.New("stores: no such order")
	ErrRateLimited          = errors.New("stores: rate limit exceeded")
	errPoolChangedMeanwhile = errors.New("stores: pool changed meanwhile")
)

// OrderingKey is the outbox ordering key of the events of an order
// (outbox.Event.OrderingKey): they reach the store in the order they
// happened.
func OrderingKey(storeSlug, orderID string) string {
	return dynamo.Tuple("store", storeSlug, "order", orderID)
}

// Store is a seller on the platform.
type Store struct {
	Slug, Name       string
	WebhookURL       string
	WebhookSecretRef string // where the webhook secret lives (Secrets Manager id, or "local:<slug>" under make run)
	// WebhookSignatureHeader names the signature header of the store's
	// webhooks ("" is the default, X-Tollgate-Signature).
	WebhookSignatureHeader string
	// SupportEmail is where buyers reach the store ("" none): the
	// Reply-To of its emails and the address they name.
	SupportEmail string
	// EmailBuyers: the buyers of licensing-fulfil orders are emailed their
	// receipt too (default off: the store's own system may mail them).
	// Checkout buyers always are.
	EmailBuyers bool
	// PricesIncludeTax: the store's setting (nil: not set; TaxIncluded).
	PricesIncludeTax *bool
	// WebhookSecretPreviousRef is the secret a rotation replaced, which
	// still signs deliveries (beside the current one) until
	// WebhookSecretPreviousUntil.
	WebhookSecretPreviousRef   string
	WebhookSecretPreviousUntil time.Time
	webhookSecretRotation      string // the id of the rotation that made the current secret
	// lowStockThreshold: the store's setting (nil: not set;
	// LowStockThreshold).
	lowStockThreshold *int64
}

// TaxIncluded says whether the store's prices in currency include the
// buyer's tax: the store's pricesIncludeTax when set; else included for
// GBP and EUR (UK and EU consumer prices must show the VAT-inclusive
// price) and excluded for every other currency (tax added at checkout, as
// US sales tax is).
func (s Store) TaxIncluded(currency string) bool {
	if s.PricesIncludeTax != nil {
		return *s.PricesIncludeTax
	}
	return currency == "GBP" || currency == "EUR"
}

// Product is a store's product and its license-key pool counters.
type Product struct {
	Store, SKU, Name string
	Prices           map[string]int64 // ISO 4217 code -> minor units
	Marketplace      bool
	Active           bool
	KeysTotal        int64 // keys ever imported (ReadPool counts what is left)
	PoolShards       int   // the pool's numbered shards (pool.go)
	// poolLegacy: the pool has the shard of keys imported before shards;
	// legacyUnmigrated: it still counts claims on the product row
	// (MigratePool moves it).
	poolLegacy, legacyUnmigrated bool
}

// Key modes: the prefix of a store API key says which.
const (
	ModeLive = "live"
	ModeTest = "test"
)

var (
	slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	skuRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	keyRE  = regexp.MustCompile(`^sk_(live|test)_[A-Za-z0-9_-]{8,120}$`)
)

// ValidSlug reports whether s is a store slug: lower-case letters, digits
// and hyphens, 1-63 characters, not starting with a hyphen.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// CheckSlugParam is the one refusal of a path parameter store_slug that is
// not a store slug (ValidSlug): a *decode.Error, answered as a 400 by every
// endpoint under /stores/{store_slug}/; nil for a valid slug.
func CheckSlugParam(slug string) error {
	if ValidSlug(slug) {
		return nil
	}
	return decode.Errorf("path parameter %q must be a store slug (lower-case letters, digits and hyphens), got %q", "store_slug", decode.Truncate(slug, 64))
}

// ValidSKU reports whether s is a SKU: letters, digits, '.', '_' and '-',
// 1-64 characters, starting with a letter or digit.
func ValidSKU(s string) bool { return skuRE.MatchString(s) }

// KeyMode returns the mode of a presented store API key ("live" or
// "test"), or "" when it is not shaped like one: sk_live_ or sk_test_ and
// 8-120 characters of [A-Za-z0-9_-]. Keys made by CreateKey have 43.
func KeyMode(key string) string {
	m := keyRE.FindStringSubmatch(key)
	if m == nil {
		return ""
	}
	return m[1]
}

func storePK(slug string) string           { return dynamo.Tuple("store", slug) }
func productSK(sku string) string          { return dynamo.Tuple("product", sku) }
func keyIndexSK(id string) string          { return dynamo.Tuple("apikey", id) }
func apiKeyPK(d apikey.Digest) string      { return dynamo.Tuple("apikey", string(d)) }
func poolPK(slug, sku string) string       { return dynamo.Tuple("pool", slug, sku) }
func poolDigestPK(slug, sku string) string { return dynamo.Tuple("pooldigest", slug, sku) }
func orderPK(slug, id string) string       { return dynamo.Tuple("order", slug, id) }
func keyNumberSK(n int64) string           { return fmt.Sprintf("%012d", n) }

// productKey is the primary key of a product row.
func productKey(slug, sku string) dynamo.Key { return dynamo.PKSK(storePK(slug), productSK(sku)) }

// crockford is Crockford's base32 alphabet (no I, L, O, U): order ids are
// read aloud and typed.
var crockford = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// OrderID is the id of the order of (store, external reference), the
// same for every retry of the same fulfilment, so a retry finds the order
// it may have written.
func OrderID(slug, externalReference string) string {
	return OrderIDOf("order", slug, externalReference)
}

// OrderIDOf is the one formula of order ids: "ORD-" and 12 characters (60
// bits of the SHA-256 of kind and parts), the same for the same parts. kind
// keeps the order ids of different makers apart ("order": the licensing
// API's, OrderID). An id is reproducible by whoever knows its parts: an
// order whose id must not be found from public data needs a secret among
// them.
func OrderIDOf(kind string, parts ...string) string {
	sum := dynamo.FingerprintSum(append([]string{kind}, parts...)...)
	return "ORD-" + crockford.EncodeToString(sum[:8])[:12]
}

var orderIDRE = regexp.MustCompile(`^ORD-[0-9A-Z]{12}$`)

// ValidOrderID reports whether s is shaped like an order id.
func ValidOrderID(s string) bool { return orderIDRE.MatchString(s) }

// claimAttr names the attribute of a product row recording where order
// id's range starts. (A top-level attribute, not an entry of a map: minidyn
// leaves a map entry copied from another attribute unreadable after a
// cancelled transaction.)
func claimAttr(orderID string) string { return claimPrefix + orderID }
