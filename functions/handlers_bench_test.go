package functions_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// benchCatalog has five products, so a request can name 1 to 5 of them.
const benchCatalog = `{"products": [
  {"productId": "gem_pack_small", "guid": "5f0c7a3e-1d2b-4c8e-9a61-0b7e3d2f4a10", "name": "Gems S", "prices": {"USD": 199}},
  {"productId": "gem_pack_large", "name": "Gems L", "prices": {"USD": 999}},
  {"productId": "founders_bundle", "name": "Founders", "prices": {"USD": 2999}, "stock": 1000000},
  {"productId": "starter_pack", "name": "Starter", "prices": {"USD": 99}, "perPlayerLimit": 1000000},
  {"productId": "coins_1000", "name": "Coins", "prices": {"USD": 99}}
]}`

var benchProducts = []struct {
	id    string
	cents int
}{{"gem_pack_small", 199}, {"gem_pack_large", 999}, {"founders_bundle", 2999}, {"starter_pack", 99}, {"coins_1000", 99}}

// benchLines returns n register/confirm/cancel lines (productId, cents, quantity).
func benchLines(n int) []any {
	var lines []any
	for _, p := range benchProducts[:n] {
		lines = append(lines, p.id, p.cents, 1)
	}
	return lines
}

// rewindBody is a request body that can be read again without allocating.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkHandlerCPU is the CPU of one request through a function's handler
// as deployed (httpx.Observe's access log around it, JSON logs at info level
// to io.Discard), without I/O: the handler runs on the real aws-sdk-go-v2
// client whose HTTP client answers every call in-process with a canned
// success (ddbtest.Canned). The stack starts on embedded minidyn, so the
// catalog cache is warm from a real Scan; then the network is cut. Bodies are
// signed with the development egress key (two key forms: raw and
// base64-decoded, so two HMACs per request).
func BenchmarkHandlerCPU(b *testing.B) {
	canned := ddbtest.NewCanned()
	stack, err := localenv.Start(context.Background(), localenv.Config{
		Getenv:     func(k string) string { return map[string]string{"CATALOG_CACHE_TTL": "1h"}[k] },
		Logger:     deps.NewLogger(io.Discard, "info"),
		HTTPClient: canned,
		Catalog:    []byte(benchCatalog),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stack.Close)
	handlers := map[string]http.Handler{}
	for _, id := range []string{"RegisterFunction", "ConfirmFunction", "CancelFunction", "AuthorizeFunction"} {
		h, err := stack.Handler(id, functions.Constructors) // warms the catalog cache through minidyn
		if err != nil {
			b.Fatal(err)
		}
		handlers[id] = httpx.Observe(stack.Logger, id, h)
	}
	canned.Cut()

	egress := []byte(localenv.DevKeys[secrets.StashEgressKey])
	for _, n := range []int{1, 5} {
		lines := benchLines(n)
		var items []string
		for _, p := range benchProducts[:n] {
			items = append(items, fmt.Sprintf(`{"id":%q,"quantity":1}`, p.id))
		}
		cases := []struct {
			name, fn, path, body string
			stash                bool
		}{
			{"register", "RegisterFunction", "/api/v1/purchase/register", registerBody("bench-tx", "bench-player", lines...), true},
			{"confirm", "ConfirmFunction", "/api/v1/purchase/confirm", itemsBody("confirm", "bench-tx", "bench-player", "", lines...), true},
			{"cancel", "CancelFunction", "/api/v1/purchase/cancel", itemsBody("cancel", "bench-tx", "bench-player", "", lines...), true},
			{"authorize", "AuthorizeFunction", "/purchase/bench-player", `{"transactionId":"bench-tx","items":[` + strings.Join(items, ",") + `]}`, false},
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/items=%d", c.name, n), func(b *testing.B) {
				body := []byte(c.body)
				req := httptest.NewRequest(http.MethodPost, c.path, nil)
				req.Header.Set("Content-Type", "application/json")
				if c.stash {
					// Signed once: the signature stays within its 5-minute window.
					req.Header.Set(auth.HeaderStashSignature, auth.SignStashV1(egress, "dev-shop", time.Now(), body))
				} else {
					req.Header.Set("x-api-key", localenv.DevKeys[secrets.StashAPIKey])
					req.SetPathValue("playerId", "bench-player")
				}
				rb := &rewindBody{}
				req.Body = rb
				req.ContentLength = int64(len(body))
				w := &discardWriter{h: http.Header{}}
				h := handlers[c.fn]
				b.ReportAllocs()
				for b.Loop() {
					rb.Reset(body)
					clear(w.h)
					w.status = 0
					h.ServeHTTP(w, req)
					if w.status != http.StatusOK {
						b.Fatalf("status %d", w.status)
					}
				}
			})
		}
	}
}
