package functions_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// hostileStores is the sample stores file plus a store whose product name
// and store name try to inject markup.
var hostileStores = []byte(`{"stores": [
  {"slug": "my-store", "name": "My Store", "apiKeys": ["sk_test_local_only_1"], "supportEmail": "support@my-store.example",
   "products": [
     {"sku": "WIN-11-PRO", "name": "Windows 11 Pro", "prices": {"GBP": 2999, "USD": 3499}, "marketplace": true,
      "licenseKeys": ["AAAAA-BBBBB-CCCCC-DDDD1", "AAAAA-BBBBB-CCCCC-DDDD2", "AAAAA-BBBBB-CCCCC-DDDD3", "AAAAA-BBBBB-CCCCC-DDDD4"]},
     {"sku": "OFFICE-2024", "name": "Office 2024", "prices": {"GBP": 4999}, "licenseKeys": ["OFFIC-EEEEE-FFFFF-00001"]}]},
  {"slug": "evil-store", "name": "Evil <script>alert('store')</script>", "apiKeys": ["sk_test_local_only_evil"],
   "products": [{"sku": "EVIL-1", "name": "<img src=x onerror=alert(1)>\"'&", "prices": {"GBP": 100}, "marketplace": true, "licenseKeys": ["EVIL1-00000-00000-00001"]}]}
]}`)

// pagesWebhookSecret verifies the Stripe events the pages' tests send.
const pagesWebhookSecret = "whsec_pages_tests"

// pagesSite is Tollgate's router on a real loopback server, with a clock
// tests can move.
type pagesSite struct {
	URL   string
	clock *atomic.Int64 // unix nanoseconds
	env   *ddbtest.Env
}

func newPagesSite(t *testing.T, b ddbtest.Backend) *pagesSite {
	t.Helper()
	return newPagesSiteWith(t, b, nil, nil)
}

// newPagesSiteWith is newPagesSite with the DynamoDB calls sent through tr
// and the log written to logger (nil: none).
func newPagesSiteWith(t *testing.T, b ddbtest.Backend, tr *ddbtest.Transport, logger *slog.Logger) *pagesSite {
	t.Helper()
	return newPagesSiteEnv(t, b, ddbtest.StackOptions{Transport: tr, Logger: logger}, nil)
}

// newPagesSiteOf is newPagesSiteWith on the stores of file.
func newPagesSiteOf(t *testing.T, b ddbtest.Backend, tr *ddbtest.Transport, logger *slog.Logger, file []byte) *pagesSite {
	t.Helper()
	return newPagesSiteEnv(t, b, ddbtest.StackOptions{Transport: tr, Logger: logger, Stores: file}, nil)
}

// newPagesSiteEnv is newPagesSiteWith with the options o (its Transport,
// Logger, MaxAttempts and Stores) and more environment (base: the site's URL).
func newPagesSiteEnv(t *testing.T, b ddbtest.Backend, o ddbtest.StackOptions, more func(base string) map[string]string) *pagesSite {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	clock := &atomic.Int64{}
	clock.Store(time.Now().UnixNano())
	vars := map[string]string{"PUBLIC_BASE_URL": base, "CHECKOUT_STRIPE_WEBHOOK_SECRET": pagesWebhookSecret}
	if more != nil {
		for k, v := range more(base) {
			vars[k] = v
		}
	}
	env := ddbtest.NewEnv(t, b, ddbtest.StackOptions{
		Env:         vars,
		Stores:      storesOr(o.Stores),
		Now:         func() time.Time { return time.Unix(0, clock.Load()) },
		Transport:   o.Transport,
		Logger:      o.Logger,
		MaxAttempts: o.MaxAttempts,
	})
	srv := httptest.NewUnstartedServer(env.Router(t))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &pagesSite{URL: base, clock: clock, env: env}
}

// storesOr is f, or hostileStores when f is nil.
func storesOr(f []byte) []byte {
	if f == nil {
		return hostileStores
	}
	return f
}

// browserClient keeps cookies and does not follow redirects, so tests see
// every 303.
func browserClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

func fetch(t *testing.T, c *http.Client, method, target string, form url.Values) page {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// now is the site's clock.
func (s *pagesSite) now() time.Time { return time.Unix(0, s.clock.Load()) }

func (s *pagesSite) session(t *testing.T, body string) (token, checkoutURL string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/stores/my-store/checkout/session/", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk_test_local_only_1")
	req.Header.Set("Content-Type", "application/json")
	var out struct {
		Token       string `json:"token"`
		CheckoutURL string `json:"checkout_url"`
	}
	if err := json.Unmarshal([]byte(call(t, req, http.StatusCreated)), &out); err != nil {
		t.Fatal(err)
	}
	return out.Token, out.CheckoutURL
}

var (
	csrfRE    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	hiddenRE  = regexp.MustCompile(`<input type="hidden" name="(psp|sig)" value="([^"]+)"`)
	keyRE     = regexp.MustCompile(`<code class="license-key">([^<]+)</code>`)
	orderIDRE = regexp.MustCompile(`<dd id="order-id">([^<]+)</dd>`)
	totalRE   = regexp.MustCompile(`id="total">([^<]+)<`)
)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no CSRF token in the page (%d): %.400s", p.Status, p.Body)
	}
	return m[1]
}

func expectPage(t *testing.T, p page, status int, contains ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d: %.600s", p.Status, status, p.Body)
	}
	if csp := p.Header.Get("Content-Security-Policy"); status != http.StatusSeeOther && !strings.HasPrefix(csp, "default-src 'none'; ") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, c := range contains {
		if !strings.Contains(p.Body, c) {
			t.Errorf("the page lacks %q: %.2000s", c, p.Body)
		}
	}
	if strings.Contains(p.Body, "goroutine ") || strings.Contains(p.Body, "panic") {
		t.Errorf("a stack trace in the page")
	}
}

// pay walks a cart page through the form and the sandbox's test card and
// returns the order page's address.
func pay(t *testing.T, c *http.Client, site *pagesSite, cart page, form url.Values, card string) (orderLink string, payPage page) {
	t.Helper()
	payURL, payPage := toPayPage(t, c, site, cart, form)
	p := payOn(t, c, site, payURL, payPage, card)
	if card != "4242424242424242" {
		return "", p
	}
	expectPage(t, p, http.StatusSeeOther)
	return p.Header.Get("Location"), payPage
}

// toPayPage posts a cart page's buyer form and opens the pay page it
// leads to.
func toPayPage(t *testing.T, c *http.Client, site *pagesSite, cart page, form url.Values) (payURL string, payPage page) {
	t.Helper()
	form.Set("csrf", csrfOf(t, cart))
	p := fetch(t, c, http.MethodPost, site.URL+"/s/my-store/cart/", form)
	expectPage(t, p, http.StatusSeeOther)
	payURL = site.URL + p.Header.Get("Location")
	payPage = fetch(t, c, http.MethodGet, payURL, nil)
	expectPage(t, payPage, http.StatusOK, "4242 4242 4242 4242")
	return payURL, payPage
}

// payOn submits a pay page's sandbox form with card.
func payOn(t *testing.T, c *http.Client, site *pagesSite, payURL string, payPage page, card string) page {
	t.Helper()
	hidden := url.Values{"csrf": {csrfOf(t, payPage)}, "card": {card}}
	for _, m := range hiddenRE.FindAllStringSubmatch(payPage.Body, -1) {
		hidden.Set(m[1], m[2])
	}
	u, _ := url.Parse(payURL)
	return fetch(t, c, http.MethodPost, site.URL+u.Path, hidden)
}

// The whole purchase over HTTP on both emulators: session, cart, buyer
// form, sandbox card, order page with the keys; the totals shown are the
// totals charged.
func TestCheckoutPagesPurchase(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			site := newPagesSite(t, b)
			c := browserClient(t)
			token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 2}, "currency": "GBP", "locale": "en", "metadata": {"external_reference": "ref-pages-1"}}`)
			if want := site.URL + "/s/my-store/cart/?token=" + url.QueryEscape(token); checkoutURL != want {
				t.Fatalf("checkout_url %q, want %q", checkoutURL, want)
			}
			cart := fetch(t, c, http.MethodGet, checkoutURL, nil)
			expectPage(t, cart, http.StatusOK, `<html lang="en">`, "My Store", "Windows 11 Pro", "£29.99", `id="subtotal">£59.98<`, `id="total">£59.98<`,
				"Prices include tax; its amount is shown once you give your billing country.")

			// A form without its CSRF token, or with another browser's, is refused.
			p := fetch(t, c, http.MethodPost, site.URL+"/s/my-store/cart/", url.Values{"token": {token}, "email": {"buyer@example.com"}, "country": {"GB"}, "csrf": {""}})
			expectPage(t, p, http.StatusForbidden, "This form has expired")
			other := browserClient(t)
			p = fetch(t, other, http.MethodPost, site.URL+"/s/my-store/cart/", url.Values{"token": {token}, "email": {"buyer@example.com"}, "country": {"GB"}, "csrf": {csrfOf(t, cart)}})
			expectPage(t, p, http.StatusForbidden)

			// A bad email is the form again with the message.
			p = fetch(t, c, http.MethodPost, site.URL+"/s/my-store/cart/", url.Values{"token": {token}, "email": {"not-an-email"}, "country": {"GB"}, "csrf": {csrfOf(t, cart)}})
			expectPage(t, p, http.StatusBadRequest, "Please give a valid email address.")

			link, payPage := pay(t, c, site, cart, url.Values{"token": {token}, "email": {"buyer@example.com"}, "country": {"GB"}}, "4242424242424242")
			expectPage(t, payPage, http.StatusOK, `<span class="name">Windows 11 Pro</span>`, `id="subtotal">£59.98<`, `id="total">£59.98<`,
				`<tr class="included"><th scope="row" colspan="3">includes VAT 20%</th><td class="num" id="tax">£10.00<`) // GBP prices include VAT
			order := fetch(t, c, http.MethodGet, site.URL+link, nil)
			expectPage(t, order, http.StatusOK, `data-status="fulfilled"`, `id="total">£59.98<`, `id="tax">£10.00<`, "buyer@example.com", `<h3>Windows 11 Pro <span class="sku">WIN-11-PRO</span></h3>`)
			if keys := keyRE.FindAllStringSubmatch(order.Body, -1); len(keys) != 2 {
				t.Fatalf("%d keys on the order page, want 2", len(keys))
			}
			if strings.Contains(order.Body, `http-equiv="refresh"`) {
				t.Error("a fulfilled order page still refreshes")
			}
			// A tampered order link shows nothing.
			expectPage(t, fetch(t, c, http.MethodGet, site.URL+strings.Replace(link, "sig=", "sig=x", 1), nil), http.StatusNotFound)
		})
	}
}

// One cart paid twice: the buyer took it to the payment with one email,
// went back, took it again with another, and paid in both tabs. The first
// payment is the sale; the second tab's order page says that payment is
// refunded in full and names the order that holds the keys.
func TestCheckoutPagesPaidTwice(t *testing.T) {
	site := newPagesSite(t, ddbtest.Backends(t)[0])
	c := browserClient(t)
	token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP", "locale": "en"}`)
	cart := fetch(t, c, http.MethodGet, checkoutURL, nil)
	urlA, pageA := toPayPage(t, c, site, cart, url.Values{"token": {token}, "email": {"first@example.com"}, "country": {"GB"}})
	urlB, pageB := toPayPage(t, c, site, cart, url.Values{"token": {token}, "email": {"second@example.com"}, "country": {"GB"}})
	if urlA == urlB {
		t.Fatal("two buyers' details made one order")
	}
	paidA := payOn(t, c, site, urlA, pageA, "4242424242424242")
	expectPage(t, paidA, http.StatusSeeOther)
	orderA := fetch(t, c, http.MethodGet, site.URL+paidA.Header.Get("Location"), nil)
	expectPage(t, orderA, http.StatusOK, `data-status="fulfilled"`)
	idA := orderIDRE.FindStringSubmatch(orderA.Body)
	if idA == nil {
		t.Fatalf("no order id on the order page: %.1000s", orderA.Body)
	}
	// The paid order's pay page, opened again, sends the buyer to the order page.
	if p := fetch(t, c, http.MethodGet, urlA, nil); p.Status != http.StatusSeeOther || p.Header.Get("Location") != paidA.Header.Get("Location") {
		t.Fatalf("the pay page of a paid order: %d to %q, want 303 to %q", p.Status, p.Header.Get("Location"), paidA.Header.Get("Location"))
	}

	paidB := payOn(t, c, site, urlB, pageB, "4242424242424242")
	expectPage(t, paidB, http.StatusSeeOther)
	orderB := fetch(t, c, http.MethodGet, site.URL+paidB.Header.Get("Location"), nil)
	expectPage(t, orderB, http.StatusOK, `data-status="refunded"`, "this second payment is refunded to you in full",
		`<dd id="paid-by">`+idA[1]+`</dd>`, "second@example.com")
	if keyRE.MatchString(orderB.Body) || strings.Contains(orderB.Body, `http-equiv="refresh"`) {
		t.Errorf("the refunded second order shows keys or refreshes: %.2000s", orderB.Body)
	}
}

// A session with return_url_success: the paid sandbox form redirects
// there with ?order_id=, which the pay page's CSP lets the form reach.
func TestCheckoutPagesReturnURL(t *testing.T) {
	site := newPagesSite(t, ddbtest.Backend{Name: "minidyn"})
	c := browserClient(t)
	token, checkoutURL := site.session(t, `{"cart": {"OFFICE-2024": 1}, "currency": "GBP", "metadata": {"return_url_success": "https://shop.example/done?lang=en", "return_url_cancel": "https://shop.example/cart"}}`)
	cart := fetch(t, c, http.MethodGet, checkoutURL, nil)
	expectPage(t, cart, http.StatusOK, `<a href="https://shop.example/cart" id="cancel">`)
	link, payPage := pay(t, c, site, cart, url.Values{"token": {token}, "email": {"back@example.com"}, "country": {"IE"}}, "4242424242424242")
	if csp := payPage.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://shop.example;") {
		t.Errorf("pay page CSP %q: the form's redirect to the shop must be allowed", csp)
	}
	if !regexp.MustCompile(`^https://shop\.example/done\?lang=en&order_id=ORD-[0-9A-Z]{12}$`).MatchString(link) {
		t.Fatalf("redirected to %q", link)
	}
}

// Refusals are friendly pages with the right status, never a 500.
func TestCheckoutPagesRefusals(t *testing.T) {
	site := newPagesSite(t, ddbtest.Backend{Name: "minidyn"})
	shortToken, _ := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP", "expires_at": "`+time.Now().Add(31*time.Minute).UTC().Format(time.RFC3339)+`"}`)
	cases := []struct {
		name     string
		target   string
		later    time.Duration // the clock moves on before the request
		status   int
		contains []string
	}{
		{"unknown token", "/s/my-store/cart/?token=AAAA.BBBB", 0, 404, []string{"Not found"}},
		{"token of another store", "/s/evil-store/cart/?token=" + url.QueryEscape(shortToken), 0, 404, nil},
		{"unknown store", "/s/no-such-store/cart/?add=A&currency=GBP", 0, 303, nil},
		{"unknown store, empty cart", "/s/no-such-store/cart/", 0, 404, nil},
		{"expired token", "/s/my-store/cart/?token=" + url.QueryEscape(shortToken), 32 * time.Minute, 410, []string{"This checkout has expired"}},
		{"token with add", "/s/my-store/cart/?token=x&add=WIN-11-PRO", 0, 400, []string{"cannot be combined"}},
		{"malformed items", "/s/my-store/cart/?items=WIN-11-PRO:0&currency=GBP", 0, 400, []string{"SKU:QUANTITY", "WIN-11-PRO:0"}},
		{"items without quantity", "/s/my-store/cart/?items=WIN-11-PRO,OFFICE-2024:1&currency=GBP", 0, 400, []string{"&#34;WIN-11-PRO&#34; is not"}},
		{"hostile items", "/s/my-store/cart/?items=" + url.QueryEscape("<script>x</script>:1") + "&currency=GBP", 0, 400, []string{"&lt;script&gt;"}},
		{"bad currency", "/s/my-store/cart/?add=WIN-11-PRO&currency=POUNDS", 0, 400, []string{"ISO 4217"}},
		{"no currency", "/s/my-store/cart/?add=WIN-11-PRO", 0, 400, []string{"currency=GBP"}},
		{"too many", "/s/my-store/cart/?items=WIN-11-PRO:100,WIN-11-PRO:1&currency=GBP", 0, 400, []string{"at most 100"}},
		{"bad slug", "/s/BAD_SLUG/cart/", 0, 404, nil},
		{"pay link unsigned", "/s/my-store/pay/ORD-0000000000AB/?psp=SANDBOX&sig=forged", 0, 404, nil},
		{"order link unsigned", "/s/my-store/orders/ORD-0000000000AB/?sig=forged", 0, 404, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			site.clock.Add(int64(c.later))
			defer site.clock.Add(-int64(c.later))
			p := fetch(t, browserClient(t), http.MethodGet, site.URL+c.target, nil)
			expectPage(t, p, c.status, c.contains...)
			if strings.Contains(p.Body, "<script>x") {
				t.Error("the input is echoed unescaped")
			}
		})
	}
}

// Add-to-cart links keep the cart in a signed cookie: the same SKU again
// adds quantity; a tampered cookie is an empty cart; the order of a
// /market/ cart records source marketplace.
func TestCheckoutPagesCookieCart(t *testing.T) {
	site := newPagesSite(t, ddbtest.Backend{Name: "minidyn"})
	c := browserClient(t)
	for _, link := range []string{"/s/my-store/cart/?add=WIN-11-PRO&currency=GBP", "/s/my-store/cart/?items=WIN-11-PRO:1,OFFICE-2024:2&currency=GBP"} {
		p := fetch(t, c, http.MethodGet, site.URL+link, nil)
		expectPage(t, p, http.StatusSeeOther)
		if loc := p.Header.Get("Location"); loc != "/s/my-store/cart/" {
			t.Fatalf("Location %q", loc)
		}
		var cookie *http.Cookie
		for _, k := range (&http.Response{Header: p.Header}).Cookies() {
			if k.Name == "tollgate_cart" {
				cookie = k
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/s/my-store/" {
			t.Fatalf("cart cookie %+v: want HttpOnly, SameSite=Lax, scoped to the store", cookie)
		}
	}
	cart := fetch(t, c, http.MethodGet, site.URL+"/s/my-store/cart/", nil)
	expectPage(t, cart, http.StatusOK, `data-sku="WIN-11-PRO"><th scope="row"><span class="name">Windows 11 Pro</span> <span class="sku">WIN-11-PRO</span></th><td class="num qty">`,
		`<label class="visually-hidden" for="qty-WIN-11-PRO">Quantity: Windows 11 Pro</label><input type="number" class="qty-input" id="qty-WIN-11-PRO" name="qty.WIN-11-PRO" min="0" max="100" step="1" inputmode="numeric" value="2">`,
		`value="2"> <button type="submit" name="remove" value="OFFICE-2024" class="secondary remove">Remove<span class="visually-hidden"> Office 2024</span></button></td><td class="num unit">£49.99</td>`,
		`id="subtotal">£159.96<`)

	// The customer's own cart can be changed: quantities (0 takes a line
	// out), a line's remove button, a line that cannot be sold. Each edit
	// redirects to the cart; a bad quantity changes nothing.
	edit := func(form url.Values, status int, contains ...string) page {
		t.Helper()
		form.Set("csrf", csrfOf(t, cart))
		form.Set("edit", "1")
		p := fetch(t, c, http.MethodPost, site.URL+"/s/my-store/cart/", form)
		expectPage(t, p, status)
		if status == http.StatusSeeOther {
			if loc := p.Header.Get("Location"); loc != "/s/my-store/cart/" {
				t.Fatalf("an edit redirects to %q", loc)
			}
			p = fetch(t, c, http.MethodGet, site.URL+"/s/my-store/cart/", nil)
		}
		expectPage(t, p, p.Status, contains...)
		return p
	}
	cart = edit(url.Values{"update": {"1"}, "qty.WIN-11-PRO": {"3"}, "qty.OFFICE-2024": {"2"}}, http.StatusSeeOther, `id="qty-WIN-11-PRO" name="qty.WIN-11-PRO" min="0" max="100" step="1" inputmode="numeric" value="3"`, `id="subtotal">£189.95<`)
	for _, bad := range []string{"-1", "101", "1.5", "two"} {
		edit(url.Values{"update": {"1"}, "qty.WIN-11-PRO": {bad}}, http.StatusBadRequest, "Quantities are whole numbers from 0 to 100. Nothing was changed.", `id="subtotal">£189.95<`)
	}
	cart = edit(url.Values{"remove": {"OFFICE-2024"}, "qty.WIN-11-PRO": {"3"}, "qty.OFFICE-2024": {"2"}}, http.StatusSeeOther, `id="subtotal">£89.97<`)
	if strings.Contains(cart.Body, `data-sku="OFFICE-2024"`) {
		t.Fatal("a removed line is still in the cart")
	}
	expectPage(t, fetch(t, c, http.MethodGet, site.URL+"/s/my-store/cart/?add=NOPE-1&currency=GBP", nil), http.StatusSeeOther)
	cart = fetch(t, c, http.MethodGet, site.URL+"/s/my-store/cart/", nil)
	expectPage(t, cart, http.StatusOK, `<li data-sku="NOPE-1">NOPE-1 is not a product of this store <button type="submit" name="remove" value="NOPE-1"`)
	cart = edit(url.Values{"remove": {"NOPE-1"}, "qty.WIN-11-PRO": {"3"}}, http.StatusSeeOther, `id="subtotal">£89.97<`)
	if strings.Contains(cart.Body, "NOPE-1") {
		t.Fatal("a line that cannot be sold stays after its removal")
	}
	edit(url.Values{"update": {"1"}, "qty.WIN-11-PRO": {"0"}}, http.StatusSeeOther, "Your cart is empty.")
	// A session's cart is the shop's: no edit controls.
	token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP"}`)
	scart := fetch(t, c, http.MethodGet, checkoutURL, nil)
	expectPage(t, scart, http.StatusOK, `<td class="num qty">1</td>`)
	if strings.Contains(scart.Body, `id="cart-edit"`) || token == "" {
		t.Error("a session's cart offers edit controls")
	}

	// Tampering: a forged or edited cookie is ignored (an empty cart), never an error.
	u, _ := url.Parse(site.URL + "/s/my-store/")
	for _, value := range []string{"forged", "eyJjIjoiR0JQIiwibCI6W1siV0lOLTExLVBSTyIsMTBdXX0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		tampered := browserClient(t)
		tampered.Jar.SetCookies(u, []*http.Cookie{{Name: "tollgate_cart", Value: value, Path: "/s/my-store/"}})
		expectPage(t, fetch(t, tampered, http.MethodGet, site.URL+"/s/my-store/cart/", nil), http.StatusOK, "Your cart is empty.")
	}

	// /market/ lists marketplace products only, escaped, with their links.
	market := fetch(t, c, http.MethodGet, site.URL+"/market/", nil)
	expectPage(t, market, http.StatusOK, "Windows 11 Pro", "£29.99", `href="/s/my-store/cart/?add=WIN-11-PRO&amp;currency=GBP&amp;source=marketplace"`,
		"&lt;img src=x onerror=alert(1)&gt;&#34;&#39;&amp;", "Evil &lt;script&gt;alert(&#39;store&#39;)&lt;/script&gt;")
	if strings.Contains(market.Body, "OFFICE-2024") || strings.Contains(market.Body, "<img src=x") || strings.Contains(market.Body, "<script>alert") {
		t.Errorf("/market/ lists an unlisted product or unescaped markup")
	}
	buyer := browserClient(t)
	expectPage(t, fetch(t, buyer, http.MethodGet, site.URL+"/s/my-store/cart/?add=WIN-11-PRO&currency=GBP&source=marketplace", nil), http.StatusSeeOther)
	mcart := fetch(t, buyer, http.MethodGet, site.URL+"/s/my-store/cart/", nil)
	link, _ := pay(t, buyer, site, mcart, url.Values{"email": {"market@example.com"}, "country": {"DE"}}, "4242424242424242")
	order := fetch(t, buyer, http.MethodGet, site.URL+link, nil)
	expectPage(t, order, http.StatusOK, `data-status="fulfilled"`)
	id := strings.Split(strings.TrimPrefix(link, "/s/my-store/orders/"), "/")[0]
	o, found, err := stores.GetOrder(context.Background(), site.env.Deps(t, "CheckoutOrderFunction").Store, "my-store", id)
	if err != nil || !found || o.Source != stores.SourceMarketplace {
		t.Fatalf("order %s: found %v, source %q, %v; want source marketplace", id, found, o.Source, err)
	}
	// Bought: the cart cookie is cleared.
	expectPage(t, fetch(t, buyer, http.MethodGet, site.URL+"/s/my-store/cart/", nil), http.StatusOK, "Your cart is empty.")
}

// A declined test card is the pay page again with the message; the
// subdivision form appears when the country's tax needs one.
func TestCheckoutPagesDeclineAndSubdivision(t *testing.T) {
	site := newPagesSite(t, ddbtest.Backend{Name: "minidyn"})
	c := browserClient(t)
	token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "USD", "locale": "de"}`)
	cart := fetch(t, c, http.MethodGet, checkoutURL, nil)
	expectPage(t, cart, http.StatusOK, `<html lang="de">`, "34,99\u00a0$", "Ihr Warenkorb")
	form := url.Values{"token": {token}, "email": {"us@example.com"}, "country": {"US"}, "csrf": {csrfOf(t, cart)}}
	again := fetch(t, c, http.MethodPost, site.URL+"/s/my-store/cart/", form)
	expectPage(t, again, http.StatusOK, `<select id="subdivision" name="subdivision"`, `<option value="CA">California</option>`, "bitte wählen Sie sie aus")
	_, declined := pay(t, c, site, again, url.Values{"token": {token}, "email": {"us@example.com"}, "country": {"US"}, "subdivision": {"CA"}}, "4000000000000002")
	expectPage(t, declined, http.StatusPaymentRequired, "declined")
	link, payPage := pay(t, c, site, again, url.Values{"token": {token}, "email": {"us@example.com"}, "country": {"US"}, "subdivision": {"CA"}}, "4242424242424242")
	order := fetch(t, c, http.MethodGet, site.URL+link, nil)
	expectPage(t, order, http.StatusOK, `data-status="fulfilled"`)
	if a, b := totalRE.FindStringSubmatch(payPage.Body), totalRE.FindStringSubmatch(order.Body); a == nil || b == nil || a[1] != b[1] {
		t.Fatalf("pay page total %v, order total %v", a, b)
	}
}

// The same cookie cart submitted twice by the same buyer (a double click,
// the back button) answers the same order: the cart function reads the
// order it placed (GetItem on the stores table, which its role must allow).
func TestCheckoutPagesSameCartTwice(t *testing.T) {
	site := newPagesSite(t, ddbtest.Backend{Name: "minidyn"})
	c := browserClient(t)
	expectPage(t, fetch(t, c, http.MethodGet, site.URL+"/s/my-store/cart/?add=WIN-11-PRO&currency=GBP", nil), http.StatusSeeOther)
	cart := fetch(t, c, http.MethodGet, site.URL+"/s/my-store/cart/", nil)
	buyer := url.Values{"email": {"twice@example.com"}, "country": {"GB"}}
	first, _ := toPayPage(t, c, site, cart, buyer)
	second, _ := toPayPage(t, c, site, cart, buyer)
	if first != second {
		t.Fatalf("the same cart and buyer made two orders: %s and %s", first, second)
	}
}

// The Stripe receiver applies a checkout order's events (its success, which
// marks the session's external reference paid, a refund, a dispute), found
// by the order's metadata.
func TestCheckoutPagesStripeEvents(t *testing.T) {
	site := newPagesSite(t, ddbtest.Backend{Name: "minidyn"})
	c := browserClient(t)
	token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP", "metadata": {"external_reference": "hook-ref-1"}}`)
	cart := fetch(t, c, http.MethodGet, checkoutURL, nil)
	p := fetch(t, c, http.MethodPost, site.URL+"/s/my-store/cart/",
		url.Values{"token": {token}, "email": {"hook@example.com"}, "country": {"GB"}, "csrf": {csrfOf(t, cart)}})
	expectPage(t, p, http.StatusSeeOther)
	orderID := strings.Split(strings.TrimPrefix(p.Header.Get("Location"), "/s/my-store/pay/"), "/")[0]
	sessionID, _, _ := strings.Cut(token, ".")
	meta := map[string]string{"tollgate_store": "my-store", "tollgate_order": orderID, "tollgate_session": sessionID}
	for i, ev := range []struct {
		typ string
		obj map[string]any
	}{
		{"payment_intent.succeeded", map[string]any{"id": "pi_hook", "object": "payment_intent", "amount": 2999, "amount_received": 2999, "currency": "gbp", "status": "succeeded", "metadata": meta}},
		{"charge.refunded", map[string]any{"id": "ch_hook", "object": "charge", "amount_refunded": 1000, "currency": "gbp", "payment_intent": site.paymentIntent(t, orderID), "metadata": meta}},
		{"charge.dispute.created", map[string]any{"id": "dp_hook", "object": "dispute", "amount": 2599, "currency": "gbp", "payment_intent": site.paymentIntent(t, orderID), "status": "needs_response", "metadata": meta}},
	} {
		if answer := site.stripeEvent(t, fmt.Sprintf("evt_hook_%d", i), ev.typ, ev.obj); !strings.Contains(answer, `"applied"`) {
			t.Fatalf("%s: %s", ev.typ, answer)
		}
	}
}

// stripeEvent posts a signed Stripe event of type typ about obj to the
// receiver and returns its 200 answer.
// paymentIntent is the PSP id the payment of order id recorded (what a
// refund or dispute of it must name; another is recorded as mismatched), or
// a made-up one when none is recorded.
func (s *pagesSite) paymentIntent(t *testing.T, id string) string {
	t.Helper()
	out, err := s.env.Stack.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(s.env.Tables.Checkout),
		Key: dynamo.PKSK(dynamo.Tuple("payment", "my-store", id), "payment"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if pi := dynamo.StringAttr(out.Item["pspId"]); pi != "" {
		return pi
	}
	return "pi_" + id
}

func (s *pagesSite) stripeEvent(t *testing.T, id, typ string, obj map[string]any) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "livemode": false,
		"created": s.now().Unix(), "data": map[string]any{"object": obj}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/stripe/webhook/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: pagesWebhookSecret, Timestamp: s.now()}).Header)
	return call(t, req, http.StatusOK)
}

// An add-to-cart order belongs to the browser that placed it. Another
// browser that posts the same cart with the buyer's email and country (all
// public) gets an order of its own, never the buyer's pay link nor, once
// the buyer pays, the buyer's keys, whichever of the two places first.
// The buyer's own retry (a double submit, the back button) is still its
// one order.
func TestCheckoutPagesCartOrderIsTheBrowsers(t *testing.T) {
	for _, first := range []string{"other browser", "buyer"} {
		t.Run(first+" first", func(t *testing.T) {
			site := newPagesSite(t, ddbtest.Backend{Name: "minidyn"})
			other, buyer := browserClient(t), browserClient(t)
			place := func(c *http.Client) (payURL string, payPage page) {
				t.Helper()
				expectPage(t, fetch(t, c, http.MethodGet, site.URL+"/s/my-store/cart/?add=WIN-11-PRO&currency=GBP", nil), http.StatusSeeOther)
				cart := fetch(t, c, http.MethodGet, site.URL+"/s/my-store/cart/", nil)
				return toPayPage(t, c, site, cart, url.Values{"email": {"victim@example.com"}, "country": {"GB"}})
			}
			var otherURL, buyerURL string
			var buyerPay page
			if first == "buyer" {
				buyerURL, buyerPay = place(buyer)
				otherURL, _ = place(other)
			} else {
				otherURL, _ = place(other)
				buyerURL, buyerPay = place(buyer)
			}
			if otherURL == buyerURL {
				t.Errorf("two browsers got one pay link: %s", buyerURL)
			}
			// The buyer's retry is the buyer's order.
			cart := fetch(t, buyer, http.MethodGet, site.URL+"/s/my-store/cart/", nil)
			if again, _ := toPayPage(t, buyer, site, cart, url.Values{"email": {"victim@example.com"}, "country": {"GB"}}); again != buyerURL {
				t.Errorf("the buyer's retry made another order: %s, then %s", buyerURL, again)
			}
			paid := payOn(t, buyer, site, buyerURL, buyerPay, "4242424242424242")
			expectPage(t, paid, http.StatusSeeOther)
			order := fetch(t, buyer, http.MethodGet, site.URL+paid.Header.Get("Location"), nil)
			expectPage(t, order, http.StatusOK, `data-status="fulfilled"`)
			keys := keyRE.FindAllStringSubmatch(order.Body, -1)
			if len(keys) != 1 {
				t.Fatalf("%d keys on the buyer's order page, want 1", len(keys))
			}
			// The other browser opens its link: its own pending order.
			p := fetch(t, other, http.MethodGet, otherURL, nil)
			if p.Status == http.StatusSeeOther {
				p = fetch(t, other, http.MethodGet, site.URL+p.Header.Get("Location"), nil)
			}
			if strings.Contains(p.Body, keys[0][1]) {
				t.Fatalf("another browser reads the buyer's key %s (%d): %.600s", keys[0][1], p.Status, p.Body)
			}
			expectPage(t, p, http.StatusOK, "4242 4242 4242 4242")
		})
	}
}

// A cart cookie written before carts had a secret (the same lines in two
// browsers' cookies) gets a secret of its own in each browser before an
// order is placed: the two browsers' orders differ, and each browser's
// retry is its one order.
func TestCheckoutPagesCartFromBeforeSecrets(t *testing.T) {
	site := newPagesSite(t, ddbtest.Backend{Name: "minidyn"})
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"c":"GBP","l":[["WIN-11-PRO",1]]}`))
	sig, err := signing.New(localenv.DevKeys).Sign(context.Background(), "checkoutweb-cart-cookie", []byte("my-store\x00"+payload))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(site.URL + "/s/my-store/")
	buyer := func() url.Values { return url.Values{"email": {"old@example.com"}, "country": {"GB"}} }
	var links []string
	for range 2 {
		c := browserClient(t)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "tollgate_cart", Value: payload + "." + sig, Path: "/s/my-store/"}})
		cart := fetch(t, c, http.MethodGet, site.URL+"/s/my-store/cart/", nil)
		expectPage(t, cart, http.StatusOK, `id="subtotal">£29.99<`)
		first, _ := toPayPage(t, c, site, cart, buyer())
		if again, _ := toPayPage(t, c, site, cart, buyer()); again != first {
			t.Fatalf("one browser's retry made another order: %s, then %s", first, again)
		}
		links = append(links, first)
	}
	if links[0] == links[1] {
		t.Fatalf("two browsers with the same old cart cookie got one order: %s", links[0])
	}
}
