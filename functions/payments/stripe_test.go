// Package payments_test runs the payments API end to end with PSP-Type
// STRIPE against stripe-mock: the functions as deployed, the official
// library, Stripe's real request contract (stripe-mock validates every
// request against Stripe's OpenAPI). stripe-mock keeps no state, so each
// call is checked on its own.
package payments_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/stripemock"
)

var stripeURL string

func TestMain(m *testing.M) { os.Exit(stripemock.Main(m, &stripeURL)) }

// paymentsAPI stands up the payments API with the demo merchant's Stripe
// test keys, Stripe at apiBase (extra: more settings), and returns a
// client of it.
func paymentsAPI(t *testing.T, apiBase string, extra map[string]string) func(method, path string, headers map[string]string, body string) (int, map[string]any) {
	env := map[string]string{"STRIPE_API_BASE": apiBase, "PAYMENTS_STRIPE_TEST_SECRET_KEY": "sk_test_123", "PAYMENTS_STRIPE_TEST_PUBLISHABLE_KEY": "pk_test_123"}
	for k, v := range extra {
		env[k] = v
	}
	e := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Env: env})
	router := e.Router(t)
	return func(method, path string, headers map[string]string, body string) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
}

var (
	pub = map[string]string{"Publishable-Key": localenv.DevPaymentsPublishableKey, "PSP-Test-Mode": "true"}
	sec = map[string]string{"Secret-Key": localenv.DevPaymentsSecretKey, "PSP-Test-Mode": "true"}
)

// stripeAlias creates and exchanges a Stripe alias (pm_card_visa) and
// returns its id.
func stripeAlias(t *testing.T, do func(method, path string, headers map[string]string, body string) (int, map[string]any), idemKey string) string {
	t.Helper()
	code, alias := do("POST", "/api/v1/alias", map[string]string{"Publishable-Key": localenv.DevPaymentsPublishableKey, "PSP-Test-Mode": "true",
		"PSP-Type": "STRIPE", "Idempotent-Key": idemKey}, "")
	if code != http.StatusCreated || alias["psp"].(map[string]any)["publishableKey"] != "pk_test_123" {
		t.Fatalf("alias: %d %v; want the merchant's Stripe publishable key for Stripe.js", code, alias)
	}
	id := alias["aliasId"].(string)
	if code, body := do("PUT", "/api/v1/alias/"+id, pub, `{"pspAlias":"pm_card_visa","extra":{"paymentMethod":"CC"}}`); code != http.StatusOK {
		t.Fatalf("exchange: %d %v", code, body)
	}
	return id
}

func TestStripeThroughThePaymentsAPI(t *testing.T) {
	stripemock.Require(t, stripeURL)
	do := paymentsAPI(t, stripeURL, nil)
	id := stripeAlias(t, do, "alias-stripe-001")
	headers := map[string]string{"Secret-Key": localenv.DevPaymentsSecretKey, "PSP-Test-Mode": "true", "Idempotent-Key": "preauth-stripe-1"}
	code, pre := do("PUT", "/api/v1/preauthorization", headers, `{"aliasId":"`+id+`","paymentData":{"amount":1000,"currency":"EUR","reason":"Order 1"}}`)
	if code != http.StatusCreated || pre["action"] != "PREAUTH" || pre["status"] == "" {
		t.Fatalf("preauthorization through stripe-mock: %d %v", code, pre)
	}
	// The replay is answered from the record, without calling Stripe.
	if code, again := do("PUT", "/api/v1/preauthorization", headers, `{"aliasId":"`+id+`","paymentData":{"amount":1000,"currency":"EUR","reason":"Order 1"}}`); code != http.StatusCreated || again["id"] != pre["id"] {
		t.Fatalf("replay: %d %v", code, again)
	}
	if code, tx := do("GET", "/api/v1/transactions/"+pre["id"].(string), sec, ""); code != http.StatusOK || tx["action"] != "PREAUTH" {
		t.Fatalf("transaction: %d %v", code, tx)
	}
	// Live mode has no Stripe credentials here: no configuration (3003).
	if code, body := do("POST", "/api/v1/alias", map[string]string{"Publishable-Key": localenv.DevPaymentsPublishableKey, "PSP-Test-Mode": "false",
		"PSP-Type": "STRIPE", "Idempotent-Key": "alias-stripe-002"}, ""); code != http.StatusBadRequest || body["error_code"] != "3003" {
		t.Fatalf("live mode without credentials: %d %v", code, body)
	}
}

// A Stripe call slower than the client's timeout ends in the function's
// own answer — the payments API's documented one for a PSP that did not
// answer (500, error_code 4000: the intent is recorded, retry with the
// same Idempotent-Key; the original API's code, kept for compatibility) —
// not in a Lambda timeout: the client's timeout (STRIPE_TIMEOUT; deployed
// 10s) is below the function's (TestTimeoutsAboveOutboundCalls). A proxy
// in front of stripe-mock holds PaymentIntent creations until the client
// gives up; STRIPE_TIMEOUT is short so the test does not wait 10s.
func TestSlowStripeAnswersInTime(t *testing.T) {
	stripemock.Require(t, stripeURL)
	slow := stripemock.NewSlow(t, stripeURL, "/v1/payment_intents")
	do := paymentsAPI(t, slow.URL, map[string]string{"STRIPE_TIMEOUT": "50ms"})
	id := stripeAlias(t, do, "alias-stripe-slow")
	headers := map[string]string{"Secret-Key": localenv.DevPaymentsSecretKey, "PSP-Test-Mode": "true", "Idempotent-Key": "preauth-stripe-slow"}
	code, body := do("PUT", "/api/v1/preauthorization", headers, `{"aliasId":"`+id+`","paymentData":{"amount":1000,"currency":"EUR","reason":"Order 1"}}`)
	if code != http.StatusInternalServerError || body["error_code"] != "4000" || body["error_description"] == "" {
		t.Fatalf("preauthorization with Stripe slower than its timeout: %d %v; want 500 error_code 4000", code, body)
	}
	if slow.Held() == 0 {
		t.Fatal("no PaymentIntent creation reached the slow proxy")
	}
}
