package catalog_test

import (
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

// TestNewShopSettings: the lookups' settings are read when the function
// starts, and a value that cannot be used stops it (rather than a lookup
// waiting forever or pricing in a currency that does not exist).
func TestNewShopSettings(t *testing.T) {
	env := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{})
	tests := []struct {
		name, setting, value string
		ok                   bool
	}{
		{"defaults", "", "", true},
		{"lookup timeout", catalog.EnvLookupTimeout, "250ms", true},
		{"lookup timeout not a duration", catalog.EnvLookupTimeout, "soon", false},
		{"lookup timeout zero", catalog.EnvLookupTimeout, "0s", false},
		{"lookup timeout negative", catalog.EnvLookupTimeout, "-1s", false},
		{"default currency, any case", catalog.EnvDefaultCurrency, "eur", true},
		{"default currency not a code", catalog.EnvDefaultCurrency, "EURO", false},
		{"cache TTL not a duration", catalog.EnvCacheTTL, "often", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := env.Deps(t, "CatalogFunction")
			getenv := d.Getenv
			d.Getenv = func(k string) string {
				if k == tt.setting {
					return tt.value
				}
				return getenv(k)
			}
			_, err := catalog.NewShop(d)
			if (err == nil) != tt.ok {
				t.Fatalf("NewShop with %s=%q: %v, want ok=%v", tt.setting, tt.value, err, tt.ok)
			}
		})
	}
}
