package apigw_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tollgate-dev/tollgate/internal/dev/apigw"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

// What the API Gateway path adds to a request: route selection, the event
// built and sent as JSON, the Lambda entry's conversion back to a request,
// the answer as JSON and back to HTTP — around a handler that does nothing,
// against the same handler served directly.
func BenchmarkGatewayPath(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"message":"Transaction processed successfully"}`))
	})
	logger := slog.New(slog.DiscardHandler)
	body := `{"transactionId":"abc123","items":[{"id":"sword_123","quantity":1},{"id":"shield_1234","quantity":1}]}`
	request := func() *http.Request {
		r := httptest.NewRequest("POST", "/purchase/player_id_123", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Api-Key", "cad1")
		return r
	}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			noop.ServeHTTP(httptest.NewRecorder(), request())
		}
	})
	b.Run("api-gateway", func(b *testing.B) {
		g, err := apigw.New([]apigw.Route{{Method: "POST", Path: "/purchase/{playerId}", Function: "AuthorizeFunction"}},
			map[string]apigw.Function{"AuthorizeFunction": {
				Invoke:  lambda.NewHandler(lambdarun.HTTPEntry("AuthorizeFunction", logger, noop)).Invoke,
				Timeout: 10 * time.Second,
			}}, logger)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			g.ServeHTTP(w, request())
			if w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	})
}
