package handler_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const egressKey = "register-test-egress-key"

// An escaped lone surrogate decodes to U+FFFD, so "sur\ud800" and
// "sur\udfff" would reserve as one transaction: register refuses both with
// a 400 (INVALID_ARGUMENT) before any DynamoDB call, so Stash never charges.
func TestRegisterRefusesLoneSurrogateEscapes(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	e, h := ddbtest.NewFunction(t, ddbtest.Backend{Name: "minidyn"}, "RegisterFunction", ddbtest.StackOptions{
		Env: map[string]string{"STASH_EGRESS_KEY": egressKey},
		Now: func() time.Time { return now },
	})
	const reg = `"currency":"USD","decimalPlaces":2,"registrations":[{"productId":"sword","cents":100,"quantity":1}]`
	cases := []struct {
		name, body, field string
	}{
		{"high surrogate in transactionId", `{"playerId":"p","transactionId":"sur\ud800",` + reg + `}`, "transactionId"},
		{"low surrogate in transactionId", `{"playerId":"p","transactionId":"sur\udfff",` + reg + `}`, "transactionId"},
		{"surrogate in playerId", `{"playerId":"p\ud800","transactionId":"t",` + reg + `}`, "playerId"},
		{"surrogate in productId", `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"registrations":[{"productId":"s\udc00","cents":100,"quantity":1}]}`, "registrations[0].productId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.Transport.Reset()
			req := httptest.NewRequest(http.MethodPost, "/api/v1/purchase/register", strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", now, []byte(c.body)))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			want := `{"code":3,"message":"field \"` + c.field + `\" holds a replacement character (U+FFFD)`
			if rec.Code != http.StatusBadRequest || !strings.HasPrefix(rec.Body.String(), want) {
				t.Fatalf("got %d %s, want 400 starting %s", rec.Code, rec.Body, want)
			}
			if calls := e.Transport.Calls(); len(calls) != 0 {
				t.Fatalf("a refused register touched DynamoDB: %v", calls)
			}
		})
	}
}
