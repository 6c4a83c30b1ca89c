package checkoutweb_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/stripemock"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// mockURL is stripe-mock's address ("" when it is unavailable outside CI).
var mockURL string

func TestMain(m *testing.M) { os.Exit(stripemock.Main(m, &mockURL)) }

// With the platform's Stripe keys the pay page embeds Stripe's Payment
// Element for the PaymentIntent created on the server: Stripe.js allowed by
// this page's CSP only, the client secret from the signed cookie scoped to
// the pay page (another browser gets no secret), no test cards.
func TestStripePayPage(t *testing.T) {
	stripemock.Require(t, mockURL)
	env := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Stores: stores.Sample, Env: map[string]string{
		"CHECKOUT_STRIPE_SECRET_KEY": "sk_test_platform", "CHECKOUT_STRIPE_PUBLISHABLE_KEY": "pk_test_platform", "STRIPE_API_BASE": mockURL}})
	srv := httptest.NewServer(env.Router(t))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(c *http.Client, method, target string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, target, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if strings.Contains(target, "/checkout/session/") {
			req.Header.Set("Authorization", "Bearer sk_test_local_only_1")
			req.Header.Set("Content-Type", "application/json")
			req.Body = io.NopCloser(strings.NewReader(`{"cart": {"WIN-11-PRO": 1}, "currency": "GBP"}`))
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	_, body := do(c, http.MethodPost, srv.URL+"/api/v1/stores/my-store/checkout/session/", nil)
	var session struct{ Token string }
	if err := json.Unmarshal([]byte(body), &session); err != nil || session.Token == "" {
		t.Fatalf("session: %s", body)
	}
	resp, cart := do(c, http.MethodGet, srv.URL+"/s/my-store/cart/?token="+url.QueryEscape(session.Token), nil)
	if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != 200 || strings.Contains(csp, "stripe") {
		t.Fatalf("cart: %d, CSP %q (Stripe is allowed on its pay page only)", resp.StatusCode, csp)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(cart)[1]
	resp, _ = do(c, http.MethodPost, srv.URL+"/s/my-store/cart/", url.Values{"csrf": {csrf}, "token": {session.Token}, "email": {"stripe@example.com"}, "country": {"GB"}})
	payLink := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(payLink, "psp=STRIPE") {
		t.Fatalf("cart POST: %d to %q", resp.StatusCode, payLink)
	}
	resp, pay := do(c, http.MethodGet, srv.URL+payLink, nil)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'nonce-", "https://js.stripe.com", "frame-src https://js.stripe.com https://hooks.stripe.com", "connect-src 'self' https://api.stripe.com"} {
		if !strings.Contains(csp, want) {
			t.Errorf("pay page CSP %q lacks %q", csp, want)
		}
	}
	for _, want := range []string{`<script src="https://js.stripe.com/v3/" nonce="`, `data-key="pk_test_platform"`, `id="payment-element"`, `data-return="/s/my-store/orders/ORD-`} {
		if !strings.Contains(pay, want) {
			t.Errorf("pay page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`data-secret="pi_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"`).MatchString(pay) || strings.Contains(pay, "4242") {
		t.Errorf("pay page: want the PaymentIntent's client secret and no test cards: %.3000s", pay)
	}
	// Stripe returns the customer to the order page, which waits for the
	// payment's notification: pending, no keys, reloading itself.
	ret := regexp.MustCompile(`data-return="([^"]+)"`).FindStringSubmatch(pay)
	if ret == nil {
		t.Fatal("no return URL on the Stripe pay page")
	}
	resp, order := do(c, http.MethodGet, srv.URL+strings.ReplaceAll(ret[1], "&amp;", "&"), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(order, `data-status="pending"`) || !strings.Contains(order, `<meta http-equiv="refresh" content="2">`) ||
		strings.Contains(order, "license-key") {
		t.Errorf("order page before the notification: %d %.2000s", resp.StatusCode, order)
	}
	// Another browser with the link gets no secret and no Stripe.js.
	resp, other := do(&http.Client{}, http.MethodGet, srv.URL+payLink, nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(other, "data-secret") || strings.Contains(resp.Header.Get("Content-Security-Policy"), "stripe") ||
		!strings.Contains(other, "started in another browser") {
		t.Errorf("another browser: %d %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	// A test card cannot pay a Stripe order.
	u, _ := url.Parse(payLink)
	resp, _ = do(c, http.MethodPost, srv.URL+u.Path, url.Values{"csrf": {csrf}, "psp": {"STRIPE"}, "sig": {u.Query().Get("sig")}, "card": {"4242424242424242"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a test card on a Stripe order: %d, want 400", resp.StatusCode)
	}
}

// A Stripe call slower than its timeout (CHECKOUT_PSP_TIMEOUT; deployed
// 10s, below the function's Lambda timeout) ends in the cart's own answer,
// the 503 error page, not in a Lambda timeout. A proxy in front of
// stripe-mock holds PaymentIntent creations until the client gives up.
func TestSlowStripeAnswers503(t *testing.T) {
	stripemock.Require(t, mockURL)
	slow := stripemock.NewSlow(t, mockURL, "/v1/payment_intents")
	env := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Stores: stores.Sample, Env: map[string]string{
		"CHECKOUT_STRIPE_SECRET_KEY": "sk_test_platform", "CHECKOUT_STRIPE_PUBLISHABLE_KEY": "pk_test_platform",
		"STRIPE_API_BASE": slow.URL, "CHECKOUT_PSP_TIMEOUT": "50ms"}})
	router := env.Router(t)
	do := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		return rec
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/stores/my-store/checkout/session/", strings.NewReader(`{"cart": {"WIN-11-PRO": 1}, "currency": "GBP"}`))
	req.Header.Set("Authorization", "Bearer sk_test_local_only_1")
	req.Header.Set("Content-Type", "application/json")
	var session struct{ Token string }
	if rec := do(req); json.Unmarshal(rec.Body.Bytes(), &session) != nil || session.Token == "" {
		t.Fatalf("session: %d %s", rec.Code, rec.Body)
	}
	cart := do(httptest.NewRequest(http.MethodGet, "/s/my-store/cart/?token="+url.QueryEscape(session.Token), nil))
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(cart.Body.String())
	if cart.Code != http.StatusOK || m == nil {
		t.Fatalf("cart: %d", cart.Code)
	}
	form := url.Values{"csrf": {m[1]}, "token": {session.Token}, "email": {"slow@example.com"}, "country": {"GB"}}
	req = httptest.NewRequest(http.MethodPost, "/s/my-store/cart/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cart.Result().Cookies() {
		req.AddCookie(c)
	}
	rec := do(req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), "Temporarily unavailable") {
		t.Fatalf("cart POST with Stripe slower than its timeout: %d %q, want the 503 page: %.1000s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if slow.Held() == 0 {
		t.Fatal("no PaymentIntent creation reached the slow proxy")
	}
}
