package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
)

const sessionURL = "/api/v1/stores/my-store/checkout/session/"

// Every answer of the session API, through the router (held to the
// OpenAPI contract): 201 and each 4xx in the store API's error shape.
func TestCheckoutSessionAPI(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newStoreEnv(t, b, map[string]string{"CHECKOUT_RATE_LIMIT": "40", "PUBLIC_BASE_URL": "https://pay.example.com"}, 0)
			// my-store's order paid-ref through the licensing API: a session for it is 409.
			if r := s.do("POST", fulfilURL, devKey, fulfilBody("paid-ref", "OFFICE-2024", 1, 4999)); r.Code != 201 {
				t.Fatalf("fulfil: %d %s", r.Code, r.Body)
			}
			soon := s.now.Add(10 * time.Minute).Format(time.RFC3339)
			later := s.now.Add(2 * time.Hour).Format(time.RFC3339)
			cases := []struct {
				name, path, key, body string
				status                int
				code, says            string
			}{
				{"created", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`, 201, "", ""},
				{"created, no slash, every field", strings.TrimSuffix(sessionURL, "/"), devKey, `{"cart":{"WIN-11-PRO":2,"OFFICE-2024":1},"currency":"gbp","locale":"en-GB","expires_at":"` + later + `","metadata":{"external_reference":"your-order-123","return_url_success":"https://your-site.com/success","return_url_cancel":"https://your-site.com/cancel"}}`, 201, "", ""},
				{"no key", sessionURL, "", `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`, 401, "unauthorized", "missing"},
				{"another store's key", sessionURL, otherKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`, 401, "unauthorized", "not a valid key"},
				{"unknown key", sessionURL, "sk_test_nobody_knows_1", `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`, 401, "unauthorized", ""},
				{"not JSON", sessionURL, devKey, `{"cart":`, 400, "invalid_request", ""},
				{"not an object", sessionURL, devKey, `[1]`, 400, "invalid_request", "object"},
				{"unknown field", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","coupon":"x"}`, 400, "invalid_request", "coupon"},
				{"unknown metadata field", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","metadata":{"note":"x"}}`, 400, "invalid_request", "note"},
				{"no cart", sessionURL, devKey, `{"currency":"GBP"}`, 400, "invalid_request", "cart"},
				{"empty cart", sessionURL, devKey, `{"cart":{},"currency":"GBP"}`, 400, "invalid_request", "cart"},
				{"no currency", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1}}`, 400, "invalid_request", "currency"},
				{"bad currency", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"POUNDS"}`, 400, "invalid_request", "currency"},
				{"quantity 0", sessionURL, devKey, `{"cart":{"WIN-11-PRO":0},"currency":"GBP"}`, 400, "invalid_request", "WIN-11-PRO"},
				{"quantity 101", sessionURL, devKey, `{"cart":{"WIN-11-PRO":101},"currency":"GBP"}`, 400, "invalid_request", "WIN-11-PRO"},
				{"quantity 1.5", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1.5},"currency":"GBP"}`, 400, "invalid_request", "WIN-11-PRO"},
				{"bad SKU", sessionURL, devKey, `{"cart":{"WIN 11":1},"currency":"GBP"}`, 400, "invalid_request", "SKU"},
				{"unpriced", sessionURL, devKey, `{"cart":{"OFFICE-2024":1},"currency":"USD"}`, 400, "invalid_request", "OFFICE-2024"},
				{"bad locale", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","locale":"not a tag!"}`, 400, "invalid_request", "locale"},
				{"relative return URL", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","metadata":{"return_url_success":"/ok"}}`, 400, "invalid_request", "return_url_success"},
				{"ftp return URL", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","metadata":{"return_url_cancel":"ftp://x.example/"}}`, 400, "invalid_request", "return_url_cancel"},
				// A return URL reaches the pay page's Content-Security-Policy
				// (its origin) and a redirect: anything outside a URL's
				// grammar in its host is refused.
				{"return URL smuggling a CSP directive", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","metadata":{"return_url_success":"https://evil.example;script-src/"}}`, 400, "invalid_request", "return_url_success"},
				{"return URL with a quote in its host", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","metadata":{"return_url_success":"https://evil.example'/"}}`, 400, "invalid_request", "return_url_success"},
				{"expires too soon", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","expires_at":"` + soon + `"}`, 400, "invalid_request", "expires_at"},
				{"expires not a time", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","expires_at":"tomorrow"}`, 400, "invalid_request", "expires_at"},
				{"unknown store", "/api/v1/stores/no-store/checkout/session/", devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`, 401, "unauthorized", "no-store"},
				{"unknown store, bogus key", "/api/v1/stores/no-store/checkout/session/", "sk_test_nobody_knows_1", `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`, 401, "unauthorized", ""},
				{"unknown SKU, bogus key", sessionURL, "sk_test_nobody_knows_1", `{"cart":{"NOPE-1":1},"currency":"GBP"}`, 401, "unauthorized", ""},
				{"unknown SKU, another store's key", sessionURL, otherKey, `{"cart":{"NOPE-1":1},"currency":"GBP"}`, 401, "unauthorized", ""},
				{"unknown SKU", sessionURL, devKey, `{"cart":{"NOPE-1":1},"currency":"GBP"}`, 404, "product_not_found", "NOPE-1"},
				{"paid reference", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","metadata":{"external_reference":"paid-ref"}}`, 409, "external_reference_conflict", "paid-ref"},
				{"too large", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP","locale":"` + strings.Repeat("a", 17<<10) + `"}`, 413, "payload_too_large", ""},
			}
			for _, c := range cases {
				r := s.do("POST", c.path, c.key, c.body)
				if r.Code != c.status {
					t.Fatalf("%s: %d %s, want %d", c.name, r.Code, r.Body, c.status)
				}
				if c.status == 201 {
					var a struct{ Token, CheckoutURL, ExpiresAt string }
					_ = json.Unmarshal(r.Body.Bytes(), &a)
					if !strings.Contains(r.Body.String(), `"checkout_url":"https://pay.example.com/s/my-store/cart/?token=`) || r.Header().Get("X-RateLimit-Remaining") == "" {
						t.Fatalf("%s: %s %v", c.name, r.Body, r.Header())
					}
					continue
				}
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.Unmarshal(r.Body.Bytes(), &e); err != nil || e.Error.Code != c.code || !strings.Contains(e.Error.Message, c.says) {
					t.Fatalf("%s: %s, want code %s saying %q", c.name, r.Body, c.code, c.says)
				}
			}
			// The session's cart is the checkout's: quoted as the page will show it.
			r := s.do("POST", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`)
			var a struct {
				Token string `json:"token"`
			}
			if err := json.Unmarshal(r.Body.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			svc, err := checkout.Open(context.Background(), s.env.Deps(t, "CheckoutCartFunction")) // the cart page quotes it
			if err != nil {
				t.Fatal(err)
			}
			q, err := svc.Quote(context.Background(), checkout.CartRef{Store: "my-store", Token: a.Token}, checkout.Buyer{Country: "US"})
			if err != nil || q.TotalMinor != 2999 || !q.NeedsSubdivision || q.Lines[0].Name == "" {
				t.Fatalf("quote %+v, %v", q, err)
			}
			if _, err := svc.Quote(context.Background(), checkout.CartRef{Store: "other-store", Token: a.Token}, checkout.Buyer{}); err == nil {
				t.Fatal("a token of my-store was accepted for other-store")
			}
			market, err := checkout.Open(context.Background(), s.env.Deps(t, "MarketFunction")) // the marketplace page lists it
			if err != nil {
				t.Fatal(err)
			}
			m, err := market.Market(context.Background())
			if err != nil || len(m) != 1 || m[0].SKU != "WIN-11-PRO" || m[0].StoreName == "" {
				t.Fatalf("market %+v, %v", m, err)
			}
		})
	}
}

// 429 after the key's limit, with the store API's rate headers.
func TestCheckoutSessionRateLimit(t *testing.T) {
	s := newStoreEnv(t, ddbtest.Backend{Name: "minidyn"}, map[string]string{"CHECKOUT_RATE_LIMIT": "2"}, 0)
	for i := 0; i < 2; i++ {
		if r := s.do("POST", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`); r.Code != 201 {
			t.Fatalf("%d: %d %s", i, r.Code, r.Body)
		}
	}
	r := s.do("POST", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`)
	if r.Code != 429 || r.Header().Get("Retry-After") == "" || r.Header().Get("X-RateLimit-Remaining") != "0" || !strings.Contains(r.Body.String(), "rate_limited") {
		t.Fatalf("3rd: %d %s %v", r.Code, r.Body, r.Header())
	}
}

// The one Stripe receiver, through the router: a checkout event (no
// tollgate_merchant) is verified with the platform's webhook secret; an
// unknown type is 200 ignored and recorded (again: duplicate); a stale or
// wrong signature is 400.
func TestStripeReceiverRoutesCheckoutEvents(t *testing.T) {
	s := newStoreEnv(t, ddbtest.Backend{Name: "minidyn"}, map[string]string{"CHECKOUT_STRIPE_WEBHOOK_SECRET": "whsec_platform"}, 0)
	body := []byte(`{"id":"evt_route_1","object":"event","type":"customer.created","livemode":false,"created":1795262400,"data":{"object":{"id":"cus_1","object":"customer"}}}`)
	sign := func(secret string, at time.Time) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
	}
	// During a secret roll Stripe signs with both secrets: one header, two
	// v1 values, the valid one last. Through API Gateway's event and the
	// Lambda entry the header arrives whole (the proxy library alone split
	// it on its commas and kept "t=…": every Stripe webhook refused in AWS).
	rolled := func(at time.Time) string {
		current := sign("whsec_platform", at)
		return sign("whsec_previous", at) + current[strings.Index(current, ",v1="):]
	}
	for _, c := range []struct {
		name, sig string
		status    int
		says      string
	}{
		{"signed during a secret roll", rolled(s.now), 200, `"ignored"`},
		{"again", sign("whsec_platform", s.now), 200, `"duplicate"`},
		{"stale", sign("whsec_platform", s.now.Add(-10*time.Minute)), 400, "tolerance"},
		{"wrong secret", sign("whsec_other", s.now), 400, "signature"},
	} {
		r := s.do("POST", "/stripe/webhook/", "", string(body), "Stripe-Signature", c.sig)
		if r.Code != c.status || !strings.Contains(r.Body.String(), c.says) {
			t.Fatalf("%s: %d %s", c.name, r.Code, r.Body)
		}
	}

	// A success for less than an order's total is answered (and recorded)
	// as such, in the contract's outcome enum; the order stays pending.
	r := s.do("POST", sessionURL, devKey, `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`)
	var a struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(r.Body.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	svc, err := checkout.Open(context.Background(), s.env.Deps(t, "CheckoutCartFunction")) // the cart starts payments
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.StartPayment(context.Background(), checkout.CartRef{Store: "my-store", Token: a.Token}, checkout.Buyer{Email: "buyer@example.com", Country: "GB"})
	if err != nil {
		t.Fatal(err)
	}
	short := []byte(fmt.Sprintf(`{"id":"evt_route_short","object":"event","type":"payment_intent.succeeded","livemode":false,"created":1795262400,`+
		`"data":{"object":{"id":"pi_short","object":"payment_intent","amount":%d,"currency":"gbp","metadata":{"tollgate_store":"my-store","tollgate_order":%q}}}}`,
		p.Quote.TotalMinor-1, p.OrderID))
	sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: short, Secret: "whsec_platform", Timestamp: s.now}).Header
	if r := s.do("POST", "/stripe/webhook/", "", string(short), "Stripe-Signature", sig); r.Code != 200 || !strings.Contains(r.Body.String(), `"amount-mismatch"`) {
		t.Fatalf("a short payment: %d %s", r.Code, r.Body)
	}
	if v, err := svc.Order(context.Background(), "my-store", p.OrderID); err != nil || v.Status != "pending" {
		t.Fatalf("order after a short payment: %+v, %v", v, err)
	}
}

// Without the checkout's webhook secret: a deployment that takes no Stripe
// payments for stores acknowledges a Stripe event that is not a payments
// merchant's (there is nothing of the checkout's it could be); one that
// takes them answers 503, so Stripe keeps the event until the secret is set.
func TestStripeReceiverWithoutCheckoutSecret(t *testing.T) {
	body := []byte(`{"id":"evt_nosecret_1","object":"event","type":"payment_intent.succeeded","livemode":false,"created":1795262400,"data":{"object":{"id":"pi_1","object":"payment_intent","amount":100,"currency":"gbp","metadata":{"tollgate_store":"my-store","tollgate_order":"ORD-0000000000AB"}}}}`)
	for _, c := range []struct {
		name   string
		env    map[string]string
		status int
		says   string
	}{
		{"no Stripe account", map[string]string{}, 200, `"ignored"`},
		{"Stripe account without webhook secret", map[string]string{"CHECKOUT_STRIPE_SECRET_KEY": "sk_test_123"}, 503, "no Stripe webhook secret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStoreEnv(t, ddbtest.Backend{Name: "minidyn"}, c.env, 0)
			sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_anything", Timestamp: s.now}).Header
			r := s.do("POST", "/stripe/webhook/", "", string(body), "Stripe-Signature", sig)
			if r.Code != c.status || !strings.Contains(r.Body.String(), c.says) {
				t.Fatalf("%d %s", r.Code, r.Body)
			}
		})
	}
}

// With PUBLIC_BASE_URL unset (the template's default), a session's
// checkout_url is on the host the request came to: in AWS API Gateway's
// requestContext.domainName, which shared/platform/lambdarun puts in r.Host.
func TestCheckoutURLOnTheRequestsHost(t *testing.T) {
	s := newStoreEnv(t, ddbtest.Backend{Name: "minidyn"}, nil, 0)
	const domain = "abc123.execute-api.eu-west-1.amazonaws.com"
	req := httptest.NewRequest("POST", sessionURL, strings.NewReader(`{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`))
	req.Host = domain
	req.Header.Set("Authorization", "Bearer "+devKey)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.router.ServeHTTP(rec, req)
	var a struct {
		CheckoutURL string `json:"checkout_url"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil || rec.Code != 201 {
		t.Fatalf("session: %d %s", rec.Code, rec.Body)
	}
	if want := "https://" + domain + "/s/my-store/cart/?token="; !strings.HasPrefix(a.CheckoutURL, want) {
		t.Errorf("checkout_url %q, want it under %s", a.CheckoutURL, want)
	}
}
