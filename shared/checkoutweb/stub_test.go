package checkoutweb

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/checkout"
	"github.com/tollgate-dev/tollgate/shared/psp"
	"github.com/tollgate-dev/tollgate/shared/secrets"
	"github.com/tollgate-dev/tollgate/shared/signing"
	"github.com/tollgate-dev/tollgate/shared/stores"
)

type stub struct{}

func (stub) Quote(ctx context.Context, c checkout.CartRef, b checkout.Buyer) (checkout.Quote, error) {
	return checkout.Quote{StoreSlug: c.Store, StoreName: "My <b>Store</b>", Currency: "GBP", Locale: "de", Lines: []checkout.QuoteLine{{SKU: "WIN-11-PRO", Name: "<script>alert(1)</script>", Quantity: 2, UnitMinor: 2999, LineMinor: 5998}}, SubtotalMinor: 5998, TaxMinor: 1200, TotalMinor: 7198, TaxLabel: "VAT 20%", NeedsSubdivision: b.Country == "US"}, nil
}
func (stub) StartPayment(ctx context.Context, c checkout.CartRef, b checkout.Buyer) (checkout.Payment, error) {
	return checkout.Payment{OrderID: "ORD-0123456789AB", PSP: psp.Sandbox}, nil
}
func (stub) SandboxPay(ctx context.Context, store, orderID, card string) error { return nil }
func (stub) Order(ctx context.Context, store, orderID string) (checkout.OrderView, error) {
	p := int64(2999)
	return checkout.OrderView{OrderID: orderID, Store: store, StoreName: "My Store", Status: "fulfilled", Currency: "GBP", TotalMinor: 3599, Items: []stores.OrderItem{{SKU: "WIN-11-PRO", Quantity: 1, UnitPriceMinor: &p, LicenseKeys: []string{"AAAA-BBBB"}}}}, nil
}
func (stub) Market(ctx context.Context) ([]checkout.MarketItem, error) {
	return []checkout.MarketItem{{Store: "my-store", StoreName: "My Store", SKU: "WIN-11-PRO", Name: "Windows", Prices: map[string]int64{"GBP": 2999, "USD": 3499}}}, nil
}

func TestStubRender(t *testing.T) {
	if os.Getenv("STUB_RENDER") == "" {
		t.Skip()
	}
	p := New(stub{}, signing.New(secrets.Static{secrets.CheckoutSigningKey: "k"}), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	mux := http.NewServeMux()
	mux.Handle("/s/{store_slug}/cart/", p.Cart())
	mux.Handle("/s/{store_slug}/orders/{order_id}/", p.Order())
	mux.Handle("/s/{store_slug}/pay/{order_id}/", p.Pay())
	mux.Handle("/market/", p.Market())
	for _, u := range []string{"/s/my-store/cart/?token=x", "/market/", "/s/my-store/cart/?items=A:1,B", os.Getenv("STUB_URL")} {
		if u == "" {
			continue
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", u, nil))
		t.Logf("%s -> %d %v\n%s", u, rec.Code, rec.Header(), rec.Body.String())
	}
}
