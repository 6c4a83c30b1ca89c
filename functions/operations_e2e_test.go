package functions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/emfcheck"
	"github.com/tollgate-dev/tollgate/internal/dev/logtest"
)

// TestOperationsMetricsEndToEnd drives the stack as production would see
// it — a checkout purchase paid with the sandbox card, a licensing
// fulfilment, a Stripe event signed with the wrong secret, the store's
// webhook receiver failing until its events are dead, a Stash purchase
// granted and another swept after its expiry — and reads the
// stack's log: every line is JSON with the request's requestId and
// traceId, every metric line is valid EMF (internal/dev/emfcheck), and the
// figures the alarms and the dashboard read are there, stack-wide.
func TestOperationsMetricsEndToEnd(t *testing.T) {
	var attempts atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		attempts.Add(1)
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer receiver.Close()
	file := []byte(fmt.Sprintf(`{"stores": [
  {"slug": "my-store", "name": "My Store", "apiKeys": ["sk_test_local_only_1"], "webhookUrl": %q, "webhookSecret": "whsec_ops_1",
   "products": [
     {"sku": "WIN-11-PRO", "name": "Windows 11 Pro", "prices": {"GBP": 2999}, "marketplace": true,
      "licenseKeys": ["AAAAA-BBBBB-CCCCC-DDDD1", "AAAAA-BBBBB-CCCCC-DDDD2", "AAAAA-BBBBB-CCCCC-DDDD3", "AAAAA-BBBBB-CCCCC-DDDD4"]}]}]}`, receiver.URL))
	logs := &logtest.Buffer{}
	site := newPagesSiteOf(t, ddbtest.Backend{Name: "minidyn"}, nil, slog.New(slog.NewJSONHandler(logs, nil)), file)
	ctx := context.Background()

	// A checkout purchase over HTTP, paid with the sandbox's card.
	c := browserClient(t)
	token, checkoutURL := site.session(t, `{"cart": {"WIN-11-PRO": 2}, "currency": "GBP", "metadata": {"external_reference": "ops-ref-1"}}`)
	cart := fetch(t, c, http.MethodGet, checkoutURL, nil)
	link, _ := pay(t, c, site, cart, url.Values{"token": {token}, "email": {"buyer@example.com"}, "country": {"GB"}}, "4242424242424242")
	expectPage(t, fetch(t, c, http.MethodGet, site.URL+link, nil), http.StatusOK, `data-status="fulfilled"`)

	// A licensing fulfilment of one key.
	req, _ := http.NewRequest(http.MethodPost, site.URL+"/api/v1/stores/my-store/licensing/fulfill/",
		strings.NewReader(fulfilBody("ops-api-1", "WIN-11-PRO", 1, 2999)))
	req.Header.Set("Authorization", "Bearer sk_test_local_only_1")
	req.Header.Set("Content-Type", "application/json")
	call(t, req, http.StatusCreated)

	// A Stripe event signed with another secret than the stack's.
	body := []byte(`{"id":"evt_ops_1","object":"event","type":"customer.created","livemode":false,"created":1795262400,"data":{"object":{"id":"cus_1","object":"customer"}}}`)
	req, _ = http.NewRequest(http.MethodPost, site.URL+"/stripe/webhook/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_not_the_stacks", Timestamp: site.now()}).Header)
	call(t, req, http.StatusBadRequest)

	// The store's receiver answers 500 to every attempt: the dispatcher's
	// scheduled runs retry its events until their retry window has passed.
	dead := func() bool { return strings.Contains(logs.String(), `"msg":"webhook dead after its retry window"`) }
	for run := 0; run < 60 && !dead(); run++ {
		ev := fmt.Sprintf(`{"id": "ops-run-%d", "source": "aws.scheduler", "detail-type": "Scheduled Event"}`, run)
		if err := site.env.Stack.InvokeJob(ctx, "DispatchFunction", functions.Jobs, []byte(ev)); err != nil {
			t.Fatal(err)
		}
		site.clock.Add(int64(3 * time.Hour))
	}
	if !dead() || attempts.Load() < 2 {
		t.Fatalf("no event dead after %d attempts", attempts.Load())
	}

	// Stash: a purchase registered and confirmed (granted), another left
	// to expire and released by the sweeper's scheduled run.
	f := newFlowLogged(t, ddbtest.Backend{Name: "minidyn"}, 0, slog.New(slog.NewJSONHandler(logs, nil)))
	f.register("ops-tx-1", "kim", "bundle", 999, 1)
	if code, body := f.confirm("ops-tx-1", "kim", "", "bundle", 999, 1); code != http.StatusOK {
		t.Fatalf("confirm: %d %s", code, body)
	}
	f.register("ops-tx-2", "lee", "bundle", 999, 2)
	f.clock.Advance(45 * time.Minute) // the reservation expired 15 minutes ago
	if err := f.stack.InvokeJob(ctx, "SweeperFunction", functions.Jobs, []byte(`{"id": "ops-sweep-1", "source": "aws.scheduler"}`)); err != nil {
		t.Fatal(err)
	}

	// The log: valid EMF wherever there are metrics, ids on every request line.
	totals, samples := map[string]float64{}, map[string]int{}
	lines := strings.Split(strings.TrimSpace(logs.Take()), "\n")
	emf := 0
	for _, text := range lines {
		raw := []byte(text)
		var line struct{ Msg, RequestID, TraceID string }
		if err := json.Unmarshal(raw, &line); err != nil {
			t.Fatalf("log line is not JSON: %s", raw)
		}
		if line.Msg == "request" && (line.RequestID == "" || line.TraceID == "") {
			t.Errorf("request line without requestId or traceId: %s", raw)
		}
		got, err := emfcheck.Check(raw)
		if errors.Is(err, emfcheck.ErrNotEMF) {
			continue
		}
		if err != nil {
			t.Fatalf("invalid EMF: %v\n%s", err, raw)
		}
		emf++
		for _, m := range got {
			if !strings.HasPrefix(m.Namespace, "Tollgate/") {
				t.Errorf("%s: namespace %q", m.Name, m.Namespace)
			}
			if len(m.Dimensions) == 0 { // the stack-wide series the alarms read
				for _, v := range m.Values {
					totals[m.Name] += v
				}
				samples[m.Name] += len(m.Values)
			}
		}
	}
	for name, least := range map[string]float64{
		"CheckoutSessions": 1, "CheckoutPayments": 1, "CheckoutConversions": 1,
		"StoreFulfilments": 2, "KeysAllocated": 3, // 2 keys by the checkout, 1 by the API
		"StripeSignatureFailures": 1,
		"WebhookRetried":          1, "WebhookDead": 1,
		"StashGrants": 1, "ReservationsReleased": 1,
	} {
		if totals[name] < least {
			t.Errorf("%s: %v in the log, want at least %v (all: %v)", name, totals[name], least, totals)
		}
	}
	if samples["WebhookLatency"] < 2 {
		t.Errorf("WebhookLatency: %d samples", samples["WebhookLatency"])
	}
	if age := totals["ExpiredReservationAge"]; age < 14*60 || age > 16*60 {
		t.Errorf("ExpiredReservationAge %v s, want the 15 minutes the reservation waited past its expiry", age)
	}
	t.Logf("%d lines, %d with EMF; stack-wide totals %v", len(lines), emf, totals)
}
