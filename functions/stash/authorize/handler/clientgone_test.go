package handler_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/logtest"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// A client that goes away while the store is being called is not a
// failure of Tollgate: every handler's error path then logs no ERROR, and
// the access log records a client abort (status 499) at INFO.
func TestClientGoneIsNotAnError(t *testing.T) {
	logs := &logtest.Buffer{}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{
		MaxAttempts: 1, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	egress, _ := e.stack.Keys.Values(context.Background(), secrets.StashEgressKey)
	webhook, _ := e.stack.Keys.Values(context.Background(), secrets.StashWebhookSecret)
	register := `{"playerId":"p1","transactionId":"t1","currency":"USD","decimalPlaces":2,"registrations":[{"productId":"a","cents":1,"quantity":1}]}`
	hook := `{"type":"PURCHASE_SUCCEEDED","eventData":{"timeMillis":"1795262400000","orderId":"o1","currency":"usd","userId":"p1","items":[{"id":"a","quantity":1,"price":"1"}],"tax":"0","total":"1"}}`
	cases := []struct {
		name, method, path, body string
		header                   map[string]string
	}{
		{"authorize", http.MethodPost, "/purchase/p1", purchase("t1", "a", 1), map[string]string{"x-api-key": apiKey}},
		{"inventory", http.MethodGet, "/api/v1/players/p1/inventory", "", map[string]string{"Authorization": "Bearer " + gameKey}},
		{"player profile", http.MethodPut, "/api/v1/players/p1", `{"name":"Aria"}`, map[string]string{"Authorization": "Bearer " + gameKey}},
		{"stash call", http.MethodPost, "/api/v1/purchase/register", register, map[string]string{auth.HeaderStashSignature: auth.SignStashV1([]byte(egress[0]), "shop", now, []byte(register))}},
		{"webhook", http.MethodPost, "/api/v1/webhooks/stash", hook, map[string]string{auth.HeaderStashWebhookSignature: auth.SignStashLegacy([]byte(webhook[0]), []byte(hook))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e.tr.Reset()
			// The client leaves while the first DynamoDB call is on its way.
			e.tr.Inject(func(int, string) ddbtest.Fault { cancel(); return ddbtest.NoFault })
			defer e.tr.Inject(nil)
			logs.Take()
			req := httptest.NewRequestWithContext(ctx, c.method, c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			e.router.ServeHTTP(httptest.NewRecorder(), req)
			if len(e.tr.Calls()) == 0 {
				t.Fatal("no DynamoDB call was made: the test cancels nothing")
			}
			var access map[string]any
			for _, raw := range strings.Split(strings.TrimSpace(logs.Take()), "\n") {
				var line map[string]any
				if err := json.Unmarshal([]byte(raw), &line); err != nil {
					t.Fatalf("log line %q: %v", raw, err)
				}
				if line["level"] == "ERROR" {
					t.Errorf("ERROR logged for a client that went away: %s", raw)
				}
				if line["msg"] == "request" {
					access = line
				}
			}
			if access["status"] != 499.0 || access["level"] != "INFO" {
				t.Fatalf("access log %v, want status 499 at INFO", access)
			}
		})
	}
}
