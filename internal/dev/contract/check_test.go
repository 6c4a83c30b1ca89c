package contract

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that keeps what Check reports.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

// Check fails a test for every exchange outside the document and for none
// inside it.
func TestCheck(t *testing.T) {
	inventory := `{"playerId":"p1","items":[{"productId":"sword","quantity":1}],"debts":[]}`
	answer := func(status int, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		})
	}
	get := func(path, auth string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return r
	}
	authorize := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/purchase/p1", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("x-api-key", "k")
		return r
	}
	tests := []struct {
		name    string
		req     *http.Request
		handler http.Handler
		fails   string // "" when the exchange is within the contract
	}{
		{"valid request, documented answer", get("/api/v1/players/p1/inventory", "Bearer k"), answer(200, inventory), ""},
		{"a lower-case bearer scheme", get("/api/v1/players/p1/inventory", "bearer k"), answer(200, inventory), ""},
		{"a renamed field in the answer", get("/api/v1/players/p1/inventory", "Bearer k"),
			answer(200, `{"playerId":"p1","item":[],"debts":[]}`), "answer outside the contract"},
		{"an undocumented status", get("/api/v1/players/p1/inventory", "Bearer k"), answer(418, `{"error":"x"}`), "status is not supported"},
		{"an error in another API's shape", get("/api/v1/players/p1/inventory", "Bearer k"),
			answer(503, `{"code":14,"message":"x","details":[]}`), "answer outside the contract"},
		{"no credential, refused", get("/api/v1/players/p1/inventory", ""), answer(401, `{"error":"Unauthorized"}`), ""},
		{"no credential, served", get("/api/v1/players/p1/inventory", ""), answer(200, inventory), "does not allow"},
		{"invalid body, refused", authorize(`{"transactionId":"t","items":[]}`), answer(400, `{"error":"empty"}`), ""},
		{"invalid body, served", authorize(`{"transactionId":"t","items":[]}`), answer(200,
			`{"message":"Transaction processed successfully","transactionId":"t","playerId":"p1"}`), "does not allow"},
		{"invalid body, served, marked Beyond", Beyond(authorize(`{"transactionId":"t","items":[]}`)), answer(200,
			`{"message":"Transaction processed successfully","transactionId":"t","playerId":"p1"}`), ""},
		{"Beyond still checks the answer", Beyond(authorize(`{"transactionId":"t","items":[]}`)), answer(200, `{}`), "answer outside the contract"},
		{"an unknown path answered as API Gateway does", get("/no/such/path", ""), answer(404, `{"message":"Not Found"}`), ""},
		{"an unknown path served", get("/no/such/path", ""), answer(200, `{}`), "no operation"},
		{"a field the contract does not name", get("/api/v1/players/p1/inventory", "Bearer k"),
			answer(200, `{"playerId":"p1","items":[],"debts":[],"extra":1}`), "answer outside the contract"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{TB: t}
			w := httptest.NewRecorder()
			Check(rec, tt.handler).ServeHTTP(w, tt.req)
			if w.Code == 0 {
				t.Fatal("Check did not pass the answer on")
			}
			switch {
			case tt.fails == "" && len(rec.errors) > 0:
				t.Errorf("reported %q, want nothing", rec.errors)
			case tt.fails != "" && (len(rec.errors) != 1 || !strings.Contains(rec.errors[0], tt.fails)):
				t.Errorf("reported %q, want one report containing %q", rec.errors, tt.fails)
			}
		})
	}
}
