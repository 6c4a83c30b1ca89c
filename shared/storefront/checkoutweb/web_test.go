package checkoutweb

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
	"github.com/tollgate-dev/tollgate/shared/platform/webpage"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
)

func testPages(key string) *Pages {
	return New(nil, signing.New(secrets.Static{secrets.CheckoutSigningKey: key}), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
}

func TestParseAdd(t *testing.T) {
	cases := []struct {
		query    string
		lines    []checkout.Line
		currency string
		source   string
		err      string
	}{
		{query: "add=SKU-001&currency=GBP", lines: []checkout.Line{{SKU: "SKU-001", Quantity: 1}}, currency: "GBP"},
		{query: "items=SKU1:1,SKU2:2&currency=GBP", lines: []checkout.Line{{SKU: "SKU1", Quantity: 1}, {SKU: "SKU2", Quantity: 2}}, currency: "GBP"},
		{query: "items=SKU1:1,SKU1:2&currency=gbp", lines: []checkout.Line{{SKU: "SKU1", Quantity: 3}}, currency: "GBP"},
		{query: "add=SKU1&items=SKU1:99&currency=EUR&source=marketplace", lines: []checkout.Line{{SKU: "SKU1", Quantity: 100}}, currency: "EUR", source: "marketplace"},
		{query: "add=SKU1", lines: []checkout.Line{{SKU: "SKU1", Quantity: 1}}},
		{query: "add=SKU1&items=SKU1:100", err: "at most 100 of SKU1"},
		{query: "items=SKU1:0&currency=GBP", err: `"SKU1:0" is not`},
		{query: "items=SKU1:101&currency=GBP", err: `"SKU1:101" is not`},
		{query: "items=SKU1:1,&currency=GBP", err: `"" is not`},
		{query: "items=SKU1&currency=GBP", err: `"SKU1" is not`},
		{query: "items=SKU1:1.5&currency=GBP", err: `"SKU1:1.5" is not`},
		{query: "items=SKU1:-1&currency=GBP", err: `"SKU1:-1" is not`},
		{query: "items=&currency=GBP", err: `"" is not`},
		{query: "items=" + url.QueryEscape("<b>:1") + "&currency=GBP", err: `"<b>" is not a product SKU`},
		{query: "add=&currency=GBP", err: `"" is not a product SKU`},
		{query: "add=A&add=B&currency=GBP", err: "add is given 2 times"},
		{query: "add=A&currency=POUND", err: "currency must be an ISO 4217 code"},
		{query: "add=A&currency=G1P", err: "currency must be an ISO 4217 code"},
		{query: "add=A&currency=GBP&source=ads", err: `source must be "marketplace"`},
		{query: "items=" + strings.Repeat("A:1,", 50) + "A:1", err: "more than 50 products"},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			q, _ := url.ParseQuery(c.query)
			lines, currency, source, err := ParseAdd(q)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(lines, c.lines) || currency != c.currency || source != c.source {
				t.Fatalf("= %v %q %q %v, want %v %q %q", lines, currency, source, err, c.lines, c.currency, c.source)
			}
		})
	}
}

// A cart cookie is read back only as written, for its own store and under
// the signing key: anything else is an empty cart, never an error.
func TestCartCookie(t *testing.T) {
	p := testPages("k1")
	want := cookieCart{Currency: "GBP", Source: "marketplace", Lines: []checkout.Line{{SKU: "A", Quantity: 2}, {SKU: "B-1", Quantity: 100}}}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:3000/s/my-store/cart/?add=A", nil)
	want, err := p.writeCart(rec, req, "my-store", want)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Secret) != secretLen {
		t.Fatalf("a new cart's secret %q: want %d random characters", want.Secret, secretLen)
	}
	cookie := rec.Result().Cookies()[0]
	if cookie.Name != cartCookie || cookie.Path != "/s/my-store/" || !cookie.HttpOnly || cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge <= 0 {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Lax, scoped to the store, not Secure on loopback http", cookie)
	}
	payload, sig, _ := strings.Cut(cookie.Value, ".")
	forge := func(store, key, value string) cookieCart {
		r := httptest.NewRequest(http.MethodGet, "/s/"+store+"/cart/", nil)
		r.AddCookie(&http.Cookie{Name: cartCookie, Value: value})
		return testPages(key).readCart(context.Background(), r, store)
	}
	if got := forge("my-store", "k1", cookie.Value); !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
	empty := cookieCart{}
	for name, c := range map[string]struct{ store, key, value string }{
		"another store":           {"other-store", "k1", cookie.Value},
		"another key":             {"my-store", "k2", cookie.Value},
		"payload changed":         {"my-store", "k1", payload[:len(payload)-2] + "xx." + sig},
		"signature changed":       {"my-store", "k1", payload + "." + strings.Repeat("A", 43)},
		"no signature":            {"my-store", "k1", payload},
		"not base64":              {"my-store", "k1", "!!!." + sig},
		"empty":                   {"my-store", "k1", ""},
		"signature of CSRF token": {"my-store", "k1", payload + "." + mustSign(t, purposeCSRF, "my-store\x00"+payload)},
	} {
		if got := forge(c.store, c.key, c.value); !reflect.DeepEqual(got, empty) {
			t.Errorf("%s: read %+v, want an empty cart", name, got)
		}
	}
	// A validly signed cart with bad lines (written by an older version, or a
	// bug) is ignored too.
	for _, raw := range []string{`{"c":"GBP","l":[["A",0]]}`, `{"c":"GBP","l":[["A",101]]}`, `{"c":"GBP","l":[["<b>",1]]}`, `{"c":"GBP","l":[["A",1.5]]}`, `{"c":"GBP","l":[[1,1]]}`, `{"c":"GBP","l":[["A",1],["A",2]]}`, `{"c":"GBP","k":"short","l":[["A",1]]}`} {
		value := signedCart(t, "my-store", raw)
		if got := forge("my-store", "k1", value); !reflect.DeepEqual(got, empty) {
			t.Errorf("%s: read %+v, want an empty cart", raw, got)
		}
	}
	// A cart written before carts had a secret is read without one (the
	// cart page gives it one before its order is placed).
	legacy := cookieCart{Currency: "GBP", Lines: []checkout.Line{{SKU: "A", Quantity: 1}}}
	if got := forge("my-store", "k1", signedCart(t, "my-store", `{"c":"GBP","l":[["A",1]]}`)); !reflect.DeepEqual(got, legacy) {
		t.Errorf("a cart without a secret: read %+v, want %+v", got, legacy)
	}
}

func mustSign(t *testing.T, purpose, msg string) string {
	t.Helper()
	s, err := signing.New(secrets.Static{secrets.CheckoutSigningKey: "k1"}).Sign(context.Background(), purpose, []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signedCart(t *testing.T, store, raw string) string {
	t.Helper()
	payload := base64URL([]byte(raw))
	return payload + "." + mustSign(t, purposeCart, store+"\x00"+payload)
}

func TestCSRF(t *testing.T) {
	p := testPages("k1")
	rec := httptest.NewRecorder()
	token, err := p.csrfToken(rec, httptest.NewRequest(http.MethodGet, "https://pay.example.com/s/my-store/cart/", nil), "my-store")
	if err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	if !cookie.Secure || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("CSRF cookie %+v: want Secure, HttpOnly, SameSite=Lax", cookie)
	}
	check := func(store string, c *http.Cookie, form string) error {
		r := httptest.NewRequest(http.MethodPost, "/s/"+store+"/cart/", strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if c != nil {
			r.AddCookie(c)
		}
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return p.checkCSRF(r, store)
	}
	if err := check("my-store", cookie, "csrf="+token); err != nil {
		t.Fatalf("the page's own token refused: %v", err)
	}
	other := &http.Cookie{Name: csrfCookie, Value: "AAAAAAAAAAAAAAAAAAAAAA"}
	// Edit one character to another: the token is random, so a fixed
	// replacement letter would sometimes be no edit at all.
	edited := "x"
	if token[10] == 'x' {
		edited = "y"
	}
	for name, c := range map[string]struct {
		store  string
		cookie *http.Cookie
		form   string
	}{
		"no token":         {"my-store", cookie, ""},
		"no cookie":        {"my-store", nil, "csrf=" + token},
		"another cookie":   {"my-store", other, "csrf=" + token},
		"another store":    {"other-store", cookie, "csrf=" + token},
		"token tampered":   {"my-store", cookie, "csrf=" + token[:10] + edited + token[11:]},
		"token of another": {"my-store", cookie, "csrf=" + mustSign(t, purposeCSRF, "my-store\x00"+other.Value)},
	} {
		if err := check(c.store, c.cookie, c.form); err != errCSRF {
			t.Errorf("%s: %v, want errCSRF", name, err)
		}
	}
}

func TestCSP(t *testing.T) {
	plain := webpage.CSP("N", policy{})
	for _, want := range []string{"default-src 'none'", "script-src 'nonce-N'", "style-src 'nonce-N'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "frame-src 'none'"} {
		if !strings.Contains(plain, want) {
			t.Errorf("%q lacks %q", plain, want)
		}
	}
	if strings.Contains(plain, "stripe") || strings.Contains(plain, "unsafe") {
		t.Errorf("%q allows more than the page's own nonce", plain)
	}
	stripe := webpage.CSP("N", policy{Stripe: true, FormTargets: []string{"https://shop.example"}})
	for _, want := range []string{"script-src 'nonce-N' https://js.stripe.com", "frame-src https://js.stripe.com https://hooks.stripe.com", "connect-src 'self' https://api.stripe.com", "form-action 'self' https://shop.example"} {
		if !strings.Contains(stripe, want) {
			t.Errorf("%q lacks %q", stripe, want)
		}
	}
}

func TestSecureCookies(t *testing.T) {
	for target, want := range map[string]bool{
		"http://127.0.0.1:3000/":      false,
		"http://localhost:3000/":      false,
		"http://[::1]:3000/":          false,
		"http://pay.example.com/":     true,
		"http://10.0.0.5/":            true,
		"https://127.0.0.1:3000/x":    true,
		"http://abc.execute-api.aws/": true,
	} {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if strings.HasPrefix(target, "https") {
			r.TLS = &tls.ConnectionState{}
		}
		if got := httpx.Secure(r); got != want {
			t.Errorf("%s: secure = %v, want %v", target, got, want)
		}
	}
}

func TestEditLines(t *testing.T) {
	cart := []checkout.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}, {SKU: "C", Quantity: 5}}
	for _, c := range []struct {
		name, form string
		want       []checkout.Line // nil: refused
	}{
		{"nothing changed", "update=1", cart},
		{"quantities", "qty.A=3&qty.B=7", []checkout.Line{{SKU: "A", Quantity: 3}, {SKU: "B", Quantity: 7}, {SKU: "C", Quantity: 5}}},
		{"zero takes out", "qty.B=0", []checkout.Line{{SKU: "A", Quantity: 2}, {SKU: "C", Quantity: 5}}},
		{"remove wins over a quantity", "remove=A&qty.A=9", []checkout.Line{{SKU: "B", Quantity: 1}, {SKU: "C", Quantity: 5}}},
		{"spaces", "qty.C=+4+", []checkout.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}, {SKU: "C", Quantity: 4}}},
		{"never adds", "qty.D=3&remove=E", cart},
		{"all out", "qty.A=0&qty.B=0&qty.C=0", []checkout.Line{}},
		{"negative", "qty.A=-1", nil},
		{"too many", "qty.A=101", nil},
		{"fraction", "qty.A=1.5", nil},
		{"words", "qty.A=two", nil},
		{"twice", "qty.A=1&qty.A=2", nil},
		{"empty", "qty.A=", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			form, _ := url.ParseQuery(c.form)
			got, err := EditLines(cart, form)
			if c.want == nil {
				if _, ok := err.(*badRequest); !ok {
					t.Fatalf("%+v, %v: want a badRequest", got, err)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("%+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}
