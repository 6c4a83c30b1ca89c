package stores

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/money"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

// Sample is the stores file make run loads when STORES_FILE is unset.
//
//go:embed sample/stores.json
var Sample []byte

// File is a stores file (STORES_FILE):
//
//	{"stores": [{"slug", "name", "apiKeys": [...], "webhookUrl", "webhookSecret", "supportEmail", "emailBuyers",
//	             "products": [{"sku", "name", "prices": {"GBP": 2999}, "marketplace", "licenseKeys": [...]}]}]}
//
// supportEmail (optional) is the store's address for buyers, named in
// their emails and their Reply-To; emailBuyers (default false) emails the
// receipt of licensing-fulfil orders too (docs/email.md).
//
// webhookUrl, webhookSecret, marketplace and licenseKeys are optional;
// webhookSecretRef (optional) names where a deployed store's secret lives;
// webhookSignatureHeader (optional) renames the signature header, e.g. to
// the X-AnonymousPay-Signature an integration already verifies;
// pricesIncludeTax (optional) says whether prices include tax.
type File struct {
	Stores []FileStore `json:"stores"`
}

// FileStore is one store of a File.
type FileStore struct {
	Slug             string   `json:"slug"`
	Name             string   `json:"name"`
	APIKeys          []string `json:"apiKeys"`
	WebhookURL       string   `json:"webhookUrl,omitempty"`
	WebhookSecret    string   `json:"webhookSecret,omitempty"`
	WebhookSecretRef string   `json:"webhookSecretRef,omitempty"`
	// WebhookSignatureHeader names the signature header ("": X-Tollgate-Signature).
	WebhookSignatureHeader string `json:"webhookSignatureHeader,omitempty"`
	SupportEmail           string `json:"supportEmail,omitempty"`
	EmailBuyers            bool   `json:"emailBuyers,omitempty"`
	// PricesIncludeTax says whether the store's prices include the buyer's
	// tax (absent: Store.TaxIncluded's default by currency).
	PricesIncludeTax *bool `json:"pricesIncludeTax,omitempty"`
	// LowStockThreshold: a pool with this many keys left or fewer is low
	// (the product.low_stock webhook, once per crossing; absent: 10, 0: never).
	LowStockThreshold *int64        `json:"lowStockThreshold,omitempty"`
	Products          []FileProduct `json:"products"`
}

// FileProduct is one product of a FileStore.
type FileProduct struct {
	SKU         string           `json:"sku"`
	Name        string           `json:"name"`
	Prices      map[string]int64 `json:"prices"`
	Marketplace bool             `json:"marketplace,omitempty"`
	LicenseKeys []string         `json:"licenseKeys,omitempty"`
	// PoolShards sets how many shards the license-key pool spreads over
	// (1-64); 0 or absent: one per KeysPerShard keys (ShardsFor).
	PoolShards int `json:"poolShards,omitempty"`
}

// MaxLicenseKeyLength bounds a license key (bytes).
const MaxLicenseKeyLength = 256

// ValidLicenseKey reports why k cannot be a license key ("" when it can):
// 1-256 bytes of printable characters, no surrounding space.
func ValidLicenseKey(k string) string {
	switch {
	case k == "":
		return "is empty"
	case len(k) > MaxLicenseKeyLength:
		return fmt.Sprintf("is longer than %d bytes", MaxLicenseKeyLength)
	case strings.TrimSpace(k) != k:
		return "has surrounding white space"
	case strings.IndexFunc(k, func(r rune) bool { return !unicode.IsGraphic(r) || r == unicode.ReplacementChar }) >= 0:
		return "holds a control or non-printable character"
	}
	return ""
}

// ParseFile decodes and validates a stores file; unknown fields and every
// rule broken are reported (the first few, with their place). License keys
// and API keys are never quoted.
func ParseFile(data []byte) (File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return File{}, fmt.Errorf("stores file: %w", err)
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	// unique checks the id of a store (slug) or product (sku): valid, and
	// not given twice among seen.
	unique := func(at, field, id string, valid bool, want string, seen map[string]bool) {
		if !valid {
			add("%s.%s %q: want %s", at, field, id, want)
		} else if seen[id] {
			add("%s.%s %q is given twice", at, field, id)
		}
		seen[id] = true
	}
	named := func(at, name string) {
		if strings.TrimSpace(name) == "" || len(name) > 128 {
			add("%s.name: required, at most 128 bytes", at)
		}
	}
	if len(f.Stores) == 0 {
		add("stores: at least one store is required")
	}
	slugs := map[string]bool{}
	keys := map[string]string{}
	for i, s := range f.Stores {
		at := fmt.Sprintf("stores[%d]", i)
		unique(at, "slug", s.Slug, ValidSlug(s.Slug), "lower-case letters, digits and hyphens (1-63)", slugs)
		named(at, s.Name)
		if len(s.APIKeys) == 0 {
			add("%s.apiKeys: at least one key is required", at)
		}
		for j, k := range s.APIKeys {
			if KeyMode(k) == "" {
				add("%s.apiKeys[%d]: want sk_live_... or sk_test_... (8-120 characters of A-Z a-z 0-9 _ -)", at, j)
			} else if other, dup := keys[k]; dup {
				add("%s.apiKeys[%d]: the same key is given to %s", at, j, other)
			}
			keys[k] = s.Slug
		}
		if s.WebhookURL != "" {
			if u, err := url.Parse(s.WebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				add("%s.webhookUrl %q: want an absolute http(s) URL", at, s.WebhookURL)
			}
		}
		if s.WebhookSignatureHeader != "" {
			if why := delivery.ValidSignatureHeader(s.WebhookSignatureHeader); why != "" {
				add("%s.webhookSignatureHeader %q: %s", at, s.WebhookSignatureHeader, why)
			}
		}
		if s.SupportEmail != "" {
			if why := validSupportEmail(s.SupportEmail); why != "" {
				add("%s.supportEmail %q: %s", at, s.SupportEmail, why)
			}
		}
		if s.LowStockThreshold != nil && (*s.LowStockThreshold < 0 || *s.LowStockThreshold > MaxLowStockThreshold) {
			add("%s.lowStockThreshold: want 0 to 1000000 keys (0: never low)", at)
		}
		skus := map[string]bool{}
		for j, p := range s.Products {
			pat := fmt.Sprintf("%s.products[%d]", at, j)
			unique(pat, "sku", p.SKU, ValidSKU(p.SKU), "letters, digits, '.', '_' or '-' (1-64)", skus)
			named(pat, p.Name)
			if len(p.Prices) == 0 {
				add("%s.prices: at least one currency is required", pat)
			}
			for cur, amount := range p.Prices {
				if validate.Currency(cur) != nil || !money.Known(cur) {
					add("%s.prices: %q is not an ISO 4217 currency with a minor unit (3 upper-case letters, such as GBP)", pat, cur)
				}
				if amount < 0 || amount > 1<<53-1 {
					add("%s.prices.%s: want minor units from 0 to 2^53-1", pat, cur)
				}
			}
			if p.PoolShards < 0 || p.PoolShards > MaxPoolShards {
				add("%s.poolShards: want 1 to %d (or leave it out: one shard per %d keys)", pat, MaxPoolShards, KeysPerShard)
			}
			for k, key := range p.LicenseKeys {
				if why := ValidLicenseKey(key); why != "" {
					add("%s.licenseKeys[%d] %s", pat, k, why)
				}
			}
		}
	}
	if len(problems) > 0 {
		if len(problems) > 20 {
			problems = append(problems[:20], fmt.Sprintf("... and %d more", len(problems)-20))
		}
		return File{}, fmt.Errorf("stores file: %s", strings.Join(problems, "; "))
	}
	return f, nil
}
