package ddbtest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/contract"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
)

// Every function gets the tables Env names, and a handler is built with its
// template settings under the test's.
func TestNewFunction(t *testing.T) {
	env := map[string]string{"STASH_API_KEY": "k", "STASH_API_KEY_HEADER": "x-studio-key"}
	e, h := ddbtest.NewFunction(t, ddbtest.Backend{Name: "minidyn"}, "AuthorizeFunction", ddbtest.StackOptions{Env: env})
	if e.Tables.Players == "" || e.Tables.Transactions == "" || e.Tables.Catalog == "" {
		t.Fatalf("tables %+v: every table named", e.Tables)
	}
	for _, id := range e.Stack.Template.FunctionIDs() {
		if got := e.Deps(t, id).Store.Tables; got != e.Tables {
			t.Errorf("%s has tables %+v, want %+v", id, got, e.Tables)
		}
	}
	tests := []struct {
		name, header string
		want         int
	}{
		{"the test's key header", "x-studio-key", http.StatusOK},
		{"the template's default header, overridden", "x-api-key", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"transactionId":"t-` + tt.header + `","items":[{"id":"gem","quantity":1}]}`
			req := httptest.NewRequest(http.MethodPost, "/purchase/p1", strings.NewReader(body))
			req.SetPathValue("playerId", "p1")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(tt.header, "k")
			if tt.header != "x-api-key" {
				req = contract.Beyond(req) // the contract documents the default header
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("%s: %d %s, want %d", tt.header, rec.Code, rec.Body, tt.want)
			}
		})
	}
}
