package stripe

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

// scripted is a real HTTP server that answers what a test scripts and
// records every request, to prove what stripe-mock cannot: declines, 5xx,
// timeouts, and the headers sent.
type scripted struct {
	*httptest.Server
	mu      sync.Mutex
	answers []answer // one per request, in order; the last repeats
	got     []request
}

type answer struct {
	status int
	body   string
	block  bool // never answer (until the client gives up)
	drop   bool // close the connection without an answer
}

type request struct {
	method, path, idempotencyKey, auth string
	form                               url.Values
}

func newScripted(t *testing.T, answers ...answer) *scripted {
	s := &scripted{answers: answers}
	release := make(chan struct{})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		s.mu.Lock()
		s.got = append(s.got, request{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), r.Header.Get("Authorization"), form})
		a := s.answers[min(len(s.got), len(s.answers))-1]
		s.mu.Unlock()
		if a.drop {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		if a.block {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(func() { close(release); s.Close() })
	return s
}

func (s *scripted) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.got...)
}

const (
	piRequiresCapture = `{"id":"pi_1","object":"payment_intent","status":"requires_capture","amount":1250,"currency":"eur"}`
	piSucceeded       = `{"id":"pi_1","object":"payment_intent","status":"succeeded","amount":1250,"currency":"eur"}`
	piProcessing      = `{"id":"pi_1","object":"payment_intent","status":"processing"}`
	piRequiresAction  = `{"id":"pi_1","object":"payment_intent","status":"requires_action"}`
	piCanceled        = `{"id":"pi_1","object":"payment_intent","status":"canceled"}`
	piRequiresPM      = `{"id":"pi_1","object":"payment_intent","status":"requires_payment_method","last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}`
	cardDeclined      = `{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined.","payment_intent":{"id":"pi_declined","object":"payment_intent","status":"requires_payment_method"}}}`
	apiError          = `{"error":{"type":"api_error","message":"An unknown error occurred."}}`
	keyInUse          = `{"error":{"type":"invalid_request_error","code":"idempotency_key_in_use","message":"There is currently another in-progress request using this Stripe-Idempotency-Key."}}`
	rateLimited       = `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests."}}`
	invalidRequest    = `{"error":{"type":"invalid_request_error","code":"parameter_invalid_integer","param":"amount","message":"Invalid integer: -5"}}`
	unexpectedState   = `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"This PaymentIntent could not be captured because it has a status of canceled."}}`
	idempotencyError  = `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`
	badKey            = `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****lgat"}}`
)

// outcome is what a call should give: a status, or "retryable"/"final" for
// a *psp.Error.
func outcome(t *testing.T, res psp.Result, err error) string {
	t.Helper()
	if err == nil {
		return string(res.Status)
	}
	var pe *psp.Error
	if !errors.As(err, &pe) || pe.PSP != psp.Stripe {
		t.Fatalf("error %v is not a *psp.Error of STRIPE", err)
	}
	if strings.Contains(err.Error(), testCreds.SecretKey) {
		t.Fatalf("error %q shows the secret key", err)
	}
	if pe.Retryable {
		return "retryable"
	}
	return "final"
}

func TestChargeOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		capture bool
		answer  answer
		want    string
		id, msg string
	}{
		{"pre-authorized", false, answer{status: 200, body: piRequiresCapture}, "SUCCESS", "pi_1", ""},
		{"authorized", true, answer{status: 200, body: piSucceeded}, "SUCCESS", "pi_1", ""},
		{"authorization left uncaptured", true, answer{status: 200, body: piRequiresCapture}, "PENDING", "pi_1", "requires_capture"},
		{"processing", true, answer{status: 200, body: piProcessing}, "PENDING", "pi_1", "processing"},
		{"requires action", false, answer{status: 200, body: piRequiresAction}, "PENDING", "pi_1", "requires_action: the customer must complete authentication"},
		{"declined in the object", false, answer{status: 200, body: piRequiresPM}, "FAIL", "pi_1", "Your card has insufficient funds. (insufficient_funds)"},
		{"canceled", false, answer{status: 200, body: piCanceled}, "FAIL", "pi_1", "payment intent is canceled"},
		{"card declined 402", false, answer{status: 402, body: cardDeclined}, "FAIL", "pi_declined", "Your card was declined. (generic_decline)"},
		{"500", false, answer{status: 500, body: apiError}, "retryable", "", ""},
		{"503 without JSON", false, answer{status: 503, body: "<html>unavailable</html>"}, "retryable", "", ""},
		{"409 key in use", false, answer{status: 409, body: keyInUse}, "retryable", "", ""},
		{"429", false, answer{status: 429, body: rateLimited}, "retryable", "", ""},
		{"400 invalid", false, answer{status: 400, body: invalidRequest}, "final", "", ""},
		{"400 idempotency key reused", false, answer{status: 400, body: idempotencyError}, "final", "", ""},
		{"401 bad key", false, answer{status: 401, body: badKey}, "final", "", ""},
		{"timeout", false, answer{block: true}, "retryable", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScripted(t, tt.answer)
			a := New(Options{APIBase: s.URL, Timeout: 200 * time.Millisecond})
			res, err := a.Charge(context.Background(), testCreds, psp.Charge{IdempotencyKey: "key-charge-1", PSPAlias: "pm_123", Amount: 1250,
				Currency: "EUR", Reason: "order 17", Capture: tt.capture, Metadata: map[string]string{"tollgate_transaction": "tx1"}})
			if got := outcome(t, res, err); got != tt.want || res.PSPTransactionID != tt.id || res.Message != tt.msg {
				t.Fatalf("got %s %+v (%v), want %s %s %q", got, res, err, tt.want, tt.id, tt.msg)
			}
			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1 (no library retries by default)", len(reqs))
			}
			r := reqs[0]
			method := "manual"
			if tt.capture {
				method = "automatic"
			}
			want := map[string]string{"amount": "1250", "currency": "eur", "payment_method": "pm_123", "confirm": "true",
				"capture_method": method, "description": "order 17", "metadata[tollgate_transaction]": "tx1",
				"automatic_payment_methods[enabled]": "true", "automatic_payment_methods[allow_redirects]": "never"}
			for k, v := range want {
				if r.form.Get(k) != v {
					t.Errorf("form %s = %q, want %q (%v)", k, r.form.Get(k), v, r.form)
				}
			}
			if r.method != http.MethodPost || r.path != "/v1/payment_intents" || r.idempotencyKey != "key-charge-1" || r.auth != "Bearer "+testCreds.SecretKey {
				t.Errorf("request %+v", r)
			}
		})
	}
}

// TestEveryCallSendsItsKey: capture, reverse, refund and detach reach the
// right endpoint with their Idempotency-Key and parameters, and map outcomes.
func TestEveryCallSendsItsKey(t *testing.T) {
	refund := `{"id":"re_1","object":"refund","status":"succeeded","amount":500}`
	tests := []struct {
		name   string
		answer answer
		call   func(a *Adapter) (psp.Result, error)
		path   string
		key    string
		form   map[string]string
		want   string
		id     string
	}{
		{"capture", answer{status: 200, body: piSucceeded}, func(a *Adapter) (psp.Result, error) {
			return a.Capture(context.Background(), testCreds, "pi_1", "key-capture", 1000)
		}, "/v1/payment_intents/pi_1/capture", "key-capture", map[string]string{"amount_to_capture": "1000"}, "SUCCESS", "pi_1"},
		{"capture processing", answer{status: 200, body: piProcessing}, func(a *Adapter) (psp.Result, error) {
			return a.Capture(context.Background(), testCreds, "pi_1", "key-capture", 1000)
		}, "/v1/payment_intents/pi_1/capture", "key-capture", nil, "PENDING", "pi_1"},
		{"capture of a canceled intent", answer{status: 400, body: unexpectedState}, func(a *Adapter) (psp.Result, error) {
			return a.Capture(context.Background(), testCreds, "pi_1", "key-capture", 1000)
		}, "/v1/payment_intents/pi_1/capture", "key-capture", nil, "final", ""},
		{"capture 502", answer{status: 502, body: apiError}, func(a *Adapter) (psp.Result, error) {
			return a.Capture(context.Background(), testCreds, "pi_1", "key-capture", 1000)
		}, "/v1/payment_intents/pi_1/capture", "key-capture", nil, "retryable", ""},
		{"reverse", answer{status: 200, body: piCanceled}, func(a *Adapter) (psp.Result, error) {
			return a.Reverse(context.Background(), testCreds, "pi_1", "key-reverse", "changed mind")
		}, "/v1/payment_intents/pi_1/cancel", "key-reverse", nil, "SUCCESS", "pi_1"},
		{"reverse of a captured intent", answer{status: 400, body: unexpectedState}, func(a *Adapter) (psp.Result, error) {
			return a.Reverse(context.Background(), testCreds, "pi_1", "key-reverse", "")
		}, "/v1/payment_intents/pi_1/cancel", "key-reverse", nil, "final", ""},
		{"refund", answer{status: 200, body: refund}, func(a *Adapter) (psp.Result, error) {
			return a.Refund(context.Background(), testCreds, "pi_1", "key-refund", 500, "returned")
		}, "/v1/refunds", "key-refund", map[string]string{"payment_intent": "pi_1", "amount": "500", "metadata[reason]": "returned"}, "SUCCESS", "re_1"},
		{"refund pending", answer{status: 200, body: `{"id":"re_2","object":"refund","status":"pending"}`}, func(a *Adapter) (psp.Result, error) {
			return a.Refund(context.Background(), testCreds, "pi_1", "key-refund", 500, "")
		}, "/v1/refunds", "key-refund", nil, "PENDING", "re_2"},
		{"refund failed", answer{status: 200, body: `{"id":"re_3","object":"refund","status":"failed","failure_reason":"expired_or_canceled_card"}`}, func(a *Adapter) (psp.Result, error) {
			return a.Refund(context.Background(), testCreds, "pi_1", "key-refund", 500, "")
		}, "/v1/refunds", "key-refund", nil, "FAIL", "re_3"},
		{"refund timeout", answer{block: true}, func(a *Adapter) (psp.Result, error) {
			return a.Refund(context.Background(), testCreds, "pi_1", "key-refund", 500, "")
		}, "/v1/refunds", "key-refund", nil, "retryable", ""},
		{"detach", answer{status: 200, body: `{"id":"pm_1","object":"payment_method"}`}, func(a *Adapter) (psp.Result, error) {
			return psp.Result{Status: psp.StatusSuccess}, a.DeleteAlias(context.Background(), testCreds, "pm_1")
		}, "/v1/payment_methods/pm_1/detach", DetachKey("pm_1"), nil, "SUCCESS", ""},
		{"detach of a missing method", answer{status: 404, body: `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such PaymentMethod: 'pm_1'"}}`}, func(a *Adapter) (psp.Result, error) {
			return psp.Result{Status: psp.StatusSuccess}, a.DeleteAlias(context.Background(), testCreds, "pm_1")
		}, "/v1/payment_methods/pm_1/detach", DetachKey("pm_1"), nil, "SUCCESS", ""},
		{"detach 500", answer{status: 500, body: apiError}, func(a *Adapter) (psp.Result, error) {
			return psp.Result{}, a.DeleteAlias(context.Background(), testCreds, "pm_1")
		}, "/v1/payment_methods/pm_1/detach", DetachKey("pm_1"), nil, "retryable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScripted(t, tt.answer)
			a := New(Options{APIBase: s.URL, Timeout: 200 * time.Millisecond})
			res, err := tt.call(a)
			if got := outcome(t, res, err); got != tt.want || res.PSPTransactionID != tt.id {
				t.Fatalf("got %s %+v (%v), want %s %s", got, res, err, tt.want, tt.id)
			}
			reqs := s.requests()
			if len(reqs) != 1 || reqs[0].path != tt.path || reqs[0].method != http.MethodPost || reqs[0].idempotencyKey != tt.key {
				t.Fatalf("requests %+v, want one POST %s with key %s", reqs, tt.path, tt.key)
			}
			for k, v := range tt.form {
				if reqs[0].form.Get(k) != v {
					t.Errorf("form %s = %q, want %q", k, reqs[0].form.Get(k), v)
				}
			}
		})
	}
}

// TestLibraryRetriesKeepTheKey: with NetworkRetries, stripe-go retries a
// dropped connection itself, with the same Idempotency-Key, so Stripe
// charges once.
func TestLibraryRetriesKeepTheKey(t *testing.T) {
	s := newScripted(t, answer{drop: true}, answer{status: 200, body: piRequiresCapture})
	a := New(Options{APIBase: s.URL, NetworkRetries: 1})
	res, err := a.Charge(context.Background(), testCreds, psp.Charge{IdempotencyKey: "key-retry", PSPAlias: "pm_1", Amount: 100, Currency: "USD"})
	if err != nil || res.Status != psp.StatusSuccess {
		t.Fatalf("%+v %v", res, err)
	}
	reqs := s.requests()
	if len(reqs) != 2 || reqs[0].idempotencyKey != "key-retry" || reqs[1].idempotencyKey != "key-retry" {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	s := newScripted(t, answer{status: 200, body: piSucceeded})
	base := s.URL
	s.Close() // nothing listens any more
	a := New(Options{APIBase: base})
	_, err := a.Charge(context.Background(), testCreds, psp.Charge{IdempotencyKey: "k", PSPAlias: "pm_1", Amount: 100, Currency: "USD"})
	if got := outcome(t, psp.Result{}, err); got != "retryable" {
		t.Fatalf("got %s (%v)", got, err)
	}
}

func TestMissingSecretKey(t *testing.T) {
	a := New(Options{APIBase: "http://127.0.0.1:1"})
	_, err := a.Charge(context.Background(), psp.Credentials{}, psp.Charge{IdempotencyKey: "k", PSPAlias: "pm_1", Amount: 100, Currency: "USD"})
	if !errors.Is(err, psp.ErrNotConfigured) || outcome(t, psp.Result{}, err) != "final" {
		t.Fatalf("got %v", err)
	}
	if got := a.ClientConfig(testCreds); got["publishableKey"] != testCreds.PublishableKey || len(got) != 1 {
		t.Fatalf("client config %v", got)
	}
}
