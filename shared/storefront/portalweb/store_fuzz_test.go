package portalweb

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// The store family's forms (settings, product) never panic: what they
// read is either refused with a message for the member (a badRequest or a
// stores.InvalidError) or, for a product, a product the store takes.
func FuzzStoreForms(f *testing.F) {
	for _, s := range []string{
		"name=My+Store&supportEmail=help%40my-store.test&webhookUrl=https%3A%2F%2Fh.example%2F&signatureHeader=X-Sig&pricesIncludeTax=true&lowStock=3&emailBuyers=on",
		"pricesIncludeTax=maybe", "lowStock=-1", "lowStock=9999999999999999999999", "lowStock=1e3",
		"name=P&prices=GBP+9.99%0AJPY+1500&active=on&marketplace=on", "prices=GBP+9.999", "prices=", "prices=%00", "name=%0A&prices=EUR%3D1",
	} {
		f.Add(s, "SKU-1")
	}
	f.Fuzz(func(t *testing.T, body, sku string) {
		r := httptest.NewRequest("POST", "/portal/stores/my-store/settings/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			return
		}
		set, err := settingsFromForm(r)
		if err == nil {
			err = set.Check(false)
		}
		var bad *badRequest
		var invalid *stores.InvalidError
		if err != nil && !errors.As(err, &bad) && !errors.As(err, &invalid) {
			t.Fatalf("settings: error %T %v, want one for the member", err, err)
		}
		in, _, err := productFromForm(r, sku)
		if err == nil {
			err = in.Check()
		}
		if err != nil && !errors.As(err, &invalid) {
			t.Fatalf("product: error %T %v, want an InvalidError", err, err)
		}
		if err == nil && (!stores.ValidSKU(in.SKU) || len(in.Prices) == 0) {
			t.Fatalf("accepted %+v", in)
		}
	})
}
