package handler_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	miniserver "github.com/truora/minidyn/server"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const gameKey = "game-key-1"

func TestInventory(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			stack := ddbtest.NewStack(t, b, ddbtest.StackOptions{Env: map[string]string{"GAME_SERVER_KEY": gameKey, "STASH_API_KEY": "k"}})
			router := ddbtest.Router(t, stack)
			do := func(method, path, auth, body string) (int, string) {
				req := httptest.NewRequest(method, path, strings.NewReader(body))
				if auth != "" {
					req.Header.Set("Authorization", auth)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("x-api-key", "k")
				rec := httptest.NewRecorder()
				router.ServeHTTP(rec, req)
				return rec.Code, strings.TrimSpace(rec.Body.String())
			}
			do(http.MethodPost, "/purchase/p%20one", "", `{"transactionId":"t1","items":[{"id":"b","quantity":2},{"id":"a","quantity":1}]}`)
			cases := []struct {
				name, path, auth string
				status           int
				body             string
			}{
				{"granted items, sorted", "/api/v1/players/p%20one/inventory", "Bearer " + gameKey, 200,
					`{"playerId":"p one","items":[{"productId":"a","quantity":1},{"productId":"b","quantity":2}],"debts":[]}`},
				{"unknown player: empty list", "/api/v1/players/nobody/inventory", "Bearer " + gameKey, 200, `{"playerId":"nobody","items":[],"debts":[]}`},
				{"lower-case scheme", "/api/v1/players/nobody/inventory", "bearer " + gameKey, 200, `{"playerId":"nobody","items":[],"debts":[]}`},
				{"no key", "/api/v1/players/nobody/inventory", "", 401, `{"error":"Unauthorized"}`},
				{"wrong key", "/api/v1/players/nobody/inventory", "Bearer nope", 401, `{"error":"Unauthorized"}`},
				{"stash's key is not the game's", "/api/v1/players/nobody/inventory", "Bearer k", 401, `{"error":"Unauthorized"}`},
				{"basic scheme", "/api/v1/players/nobody/inventory", "Basic " + gameKey, 401, `{"error":"Unauthorized"}`},
				{"player id too long", "/api/v1/players/" + strings.Repeat("x", 129) + "/inventory", "Bearer " + gameKey, 400, `{"error":"field \"playerId\" is longer than 128 characters"}`},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					code, body := do(http.MethodGet, c.path, c.auth, "")
					if code != c.status || body != c.body {
						t.Fatalf("got %d %s, want %d %s", code, body, c.status, c.body)
					}
				})
			}
		})
	}
}

// Two Authorization headers are ambiguous, so the call is refused whatever
// the values: with "first wins", (right, wrong) answered 200.
func TestInventoryRepeatedAuthorization(t *testing.T) {
	stack := ddbtest.NewStack(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Env: map[string]string{"GAME_SERVER_KEY": gameKey}})
	router := ddbtest.Router(t, stack)
	cases := []struct {
		name   string
		values []string
		status int
	}{
		{"one Bearer", []string{"Bearer " + gameKey}, 200},
		{"right then wrong", []string{"Bearer " + gameKey, "Bearer nope"}, 401},
		{"wrong then right", []string{"Bearer nope", "Bearer " + gameKey}, 401},
		{"right twice", []string{"Bearer " + gameKey, "Bearer " + gameKey}, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/players/p1/inventory", nil)
			for _, v := range c.values {
				req.Header.Add("Authorization", v)
			}
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, c.status)
			}
			if body := strings.TrimSpace(rec.Body.String()); c.status == 401 && body != `{"error":"Unauthorized"}` {
				t.Fatalf("body = %s", body)
			}
		})
	}
}

func TestInventoryStoreFailure(t *testing.T) {
	stack := ddbtest.NewStack(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{MaxAttempts: 1, Env: map[string]string{"GAME_SERVER_KEY": gameKey}})
	router := ddbtest.Router(t, stack)
	stack.Minidyn.EmulateFailure(miniserver.FailureConditionInternalServerError)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/players/p1/inventory", nil)
	req.Header.Set("Authorization", "Bearer "+gameKey)
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Fatalf("got %d %s, want 503", rec.Code, rec.Body)
	}
}
