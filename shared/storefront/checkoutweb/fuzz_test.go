package checkoutweb

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// An add-to-cart query never panics, and what it accepts is a usable cart:
// valid SKUs, quantities 1 to 100, a currency of three capitals or none.
func FuzzParseAdd(f *testing.F) {
	for _, s := range []string{"add=SKU-001&currency=GBP", "items=SKU1:1,SKU2:2&currency=GBP", "items=A:1,A:99", "items=A:0", "items=:,:", "add=%00", "currency=gbp&source=marketplace&add=X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		lines, currency, source, err := ParseAdd(q)
		if err != nil {
			if _, ok := err.(*badRequest); !ok {
				t.Fatalf("error %T %v, want a badRequest", err, err)
			}
			return
		}
		if len(currency) != 0 && len(currency) != 3 || source != "" && source != SourceMarketplace {
			t.Fatalf("currency %q source %q", currency, source)
		}
		seen := map[string]bool{}
		for _, l := range lines {
			if !stores.ValidSKU(l.SKU) || l.Quantity < 1 || l.Quantity > checkout.MaxQuantity || seen[l.SKU] {
				t.Fatalf("line %+v of %q", l, raw)
			}
			seen[l.SKU] = true
		}
	})
}

// Whatever a browser sends as the cart cookie, reading it never panics and
// gives a usable cart (empty unless signed).
func FuzzCartCookie(f *testing.F) {
	p := testPages("k1")
	f.Add(signedCartFor("my-store", `{"c":"GBP","l":[["A",2]]}`))
	f.Add(signedCartFor("my-store", `{"c":"GBP","l":[["A",2],["A",3]]}`))
	f.Add(signedCartFor("my-store", `{"c":"GBP","l":[["A"]]}`))
	f.Add(signedCartFor("my-store", `{"c":"GBP","l":null}`))
	f.Add("e30.x")
	f.Add("")
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest(http.MethodGet, "/s/my-store/cart/", nil)
		r.Header.Set("Cookie", cartCookie+"="+value)
		cc := p.readCart(context.Background(), r, "my-store")
		if len(cc.Lines) > checkout.MaxLines {
			t.Fatalf("%d lines", len(cc.Lines))
		}
		seen := map[string]bool{}
		for _, l := range cc.Lines {
			if !stores.ValidSKU(l.SKU) || l.Quantity < 1 || l.Quantity > checkout.MaxQuantity || seen[l.SKU] {
				t.Fatalf("line %+v", l)
			}
			seen[l.SKU] = true
		}
	})
}

// Whatever the cart's edit form carries, EditLines never panics and never
// adds: the lines it keeps are the cart's own SKUs, in order, each once,
// with quantities 1 to 100.
func FuzzEditLines(f *testing.F) {
	for _, s := range []string{"qty.A=3&qty.B=0", "remove=A&qty.A=2", "qty.A=-1", "qty.A=1.5", "qty.A=1&qty.A=2", "qty.C=5", "qty.A=%20+7%20", "qty.A=101"} {
		f.Add(s)
	}
	cart := []checkout.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}}
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		lines, err := EditLines(cart, form)
		if err != nil {
			if _, ok := err.(*badRequest); !ok {
				t.Fatalf("error %T %v, want a badRequest", err, err)
			}
			return
		}
		next := 0
		for _, l := range lines {
			for next < len(cart) && cart[next].SKU != l.SKU {
				next++
			}
			if next == len(cart) || l.Quantity < 1 || l.Quantity > checkout.MaxQuantity {
				t.Fatalf("kept %+v of %q", lines, raw)
			}
			next++
		}
	})
}

func signedCartFor(store, raw string) string {
	payload := base64URL([]byte(raw))
	sig, _ := testPages("k1").signer.Sign(context.Background(), purposeCart, []byte(store+"\x00"+payload))
	return payload + "." + sig
}
