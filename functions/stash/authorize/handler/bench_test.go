package handler_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/functions/stash/authorize/handler"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
)

func BenchmarkDecodeRequest(b *testing.B) {
	body := []byte(purchase("abc123", "sword_123", 1, "shield_1234", 1, "potion", 5, "gem", 100, "coin", 1000))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := handler.DecodeRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorizeMinidyn is a whole authorization (new transaction each
// time) through the router, including the loopback round trip to embedded
// minidyn: an upper bound of what the handler costs, not its CPU alone.
func BenchmarkAuthorizeMinidyn(b *testing.B) {
	stack := ddbtest.NewStack(b, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Env: testEnv})
	router, err := stack.Router(functions.Constructors)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		req := httptest.NewRequest(http.MethodPost, "/purchase/bench", strings.NewReader(purchase(fmt.Sprint("tx-", i), "gem", 1)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("x-api-key", apiKey)
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
