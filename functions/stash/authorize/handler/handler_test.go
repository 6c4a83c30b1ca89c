package handler_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	miniserver "github.com/truora/minidyn/server"

	"github.com/tollgate-dev/tollgate/internal/dev/contract"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const (
	apiKey  = "test-api-key"
	gameKey = "test-game-key"
)

var testEnv = map[string]string{"STASH_API_KEY": apiKey, "GAME_SERVER_KEY": gameKey}

type env struct {
	t      *testing.T
	stack  *localenv.Stack
	router http.Handler
	tr     *ddbtest.Transport
	beyond bool // the next calls are outside the contract on purpose (contract.Beyond)
}

func newEnv(t *testing.T, b ddbtest.Backend, o ddbtest.StackOptions) *env {
	t.Helper()
	if o.Env == nil {
		o.Env = testEnv
	}
	d := ddbtest.NewEnv(t, b, o)
	return &env{t: t, stack: d.Stack, router: d.Router(t), tr: d.Transport}
}

func (e *env) authorize(player, key, body string, header ...string) (int, string) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/purchase/"+player, strings.NewReader(body))
	if e.beyond {
		req = contract.Beyond(req)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func (e *env) inventory(player string) []players.Item {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/players/"+player+"/inventory", nil)
	req.Header.Set("Authorization", "Bearer "+gameKey)
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("inventory of %s: %d %s", player, rec.Code, rec.Body)
	}
	var out struct {
		PlayerID string         `json:"playerId"`
		Items    []players.Item `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		e.t.Fatal(err)
	}
	return out.Items
}

func purchase(tx string, items ...any) string {
	var parts []string
	for i := 0; i+1 < len(items); i += 2 {
		parts = append(parts, fmt.Sprintf(`{"id":%q,"quantity":%d}`, items[i], items[i+1]))
	}
	return fmt.Sprintf(`{"transactionId":%q,"items":[%s]}`, tx, strings.Join(parts, ","))
}

func eachBackend(t *testing.T, f func(t *testing.T, b ddbtest.Backend)) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

func assertInventory(t *testing.T, got []players.Item, want ...any) {
	t.Helper()
	var w []players.Item
	for i := 0; i+1 < len(want); i += 2 {
		w = append(w, players.Item{ProductID: want[i].(string), Quantity: int64(want[i+1].(int))})
	}
	if fmt.Sprint(got) != fmt.Sprint(w) {
		t.Fatalf("inventory = %v, want %v", got, w)
	}
}

func TestGrantReplayConflict(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, ddbtest.StackOptions{})
		body := purchase("abc123", "sword_123", 1, "shield_1234", 1)

		e.tr.Reset()
		code, resp := e.authorize("player_id_123", apiKey, body)
		if code != http.StatusOK || !strings.Contains(resp, `"message":"Transaction processed successfully"`) {
			t.Fatalf("first call: %d %s", code, resp)
		}
		if calls := e.tr.Calls(); len(calls) != 1 || calls[0] != "TransactWriteItems" {
			t.Fatalf("a grant must cost exactly one DynamoDB call, made %v", calls)
		}
		assertInventory(t, e.inventory("player_id_123"), "shield_1234", 1, "sword_123", 1)

		// The same call again (Stash retrying): same answer, nothing granted twice.
		code2, resp2 := e.authorize("player_id_123", apiKey, body)
		if code2 != http.StatusOK || resp2 != resp {
			t.Fatalf("replay: %d %s, want 200 %s", code2, resp2, resp)
		}
		// Same items in another order and split differently are the same purchase.
		code3, _ := e.authorize("player_id_123", apiKey, purchase("abc123", "shield_1234", 1, "sword_123", 1))
		if code3 != http.StatusOK {
			t.Fatalf("reordered replay: %d", code3)
		}
		assertInventory(t, e.inventory("player_id_123"), "shield_1234", 1, "sword_123", 1)

		// The transaction id reused with other items or another player: 409, nothing granted.
		for _, c := range []struct{ player, body string }{
			{"player_id_123", purchase("abc123", "sword_123", 2, "shield_1234", 1)},
			{"player_id_123", purchase("abc123", "sword_123", 1)},
			{"someone_else", body},
		} {
			code, resp := e.authorize(c.player, apiKey, c.body)
			if code != http.StatusConflict || !strings.Contains(resp, `"error"`) {
				t.Fatalf("reuse by %s %s: %d %s, want 409", c.player, c.body, code, resp)
			}
		}
		assertInventory(t, e.inventory("player_id_123"), "shield_1234", 1, "sword_123", 1)
		assertInventory(t, e.inventory("someone_else"))

		// A new transaction adds up; duplicate lines are merged.
		if code, resp := e.authorize("player_id_123", apiKey, purchase("def456", "sword_123", 2, "sword_123", 3)); code != http.StatusOK {
			t.Fatalf("second purchase: %d %s", code, resp)
		}
		assertInventory(t, e.inventory("player_id_123"), "shield_1234", 1, "sword_123", 6)
	})
}

func TestRejectsBadRequests(t *testing.T) {
	big := `{"transactionId":"t","items":[{"id":"` + strings.Repeat("x", 17<<10) + `","quantity":1}]}`
	many := `{"transactionId":"t","items":[` + strings.TrimSuffix(strings.Repeat(`{"id":"a","quantity":1},`, 51), ",") + `]}`
	cases := []struct {
		name    string
		key     string
		player  string
		body    string
		headers []string
		status  int
		message string // substring of the error
	}{
		{"no key", "", "p1", purchase("t1", "a", 1), nil, 401, `"error":"Unauthorized"`},
		{"wrong key", "nope", "p1", purchase("t1", "a", 1), nil, 401, `"error":"Unauthorized"`},
		{"key differs in case", strings.ToUpper(apiKey), "p1", purchase("t1", "a", 1), nil, 401, "Unauthorized"},
		{"not json", apiKey, "p1", "hello", nil, 400, "malformed JSON"},
		{"truncated json", apiKey, "p1", `{"transactionId":"t1","items":[`, nil, 400, "malformed JSON"},
		{"empty body", apiKey, "p1", "", nil, 400, "empty"},
		{"array body", apiKey, "p1", `[1,2]`, nil, 400, "must be an object, got array"},
		{"trailing data", apiKey, "p1", purchase("t1", "a", 1) + "{}", nil, 400, "after the JSON value"},
		{"wrong content type", apiKey, "p1", purchase("t1", "a", 1), []string{"Content-Type", "text/plain"}, 400, "must be JSON"},
		{"missing transactionId", apiKey, "p1", `{"items":[{"id":"a","quantity":1}]}`, nil, 400, `missing field \"transactionId\"`},
		{"null transactionId", apiKey, "p1", `{"transactionId":null,"items":[{"id":"a","quantity":1}]}`, nil, 400, `missing field \"transactionId\"`},
		{"numeric transactionId", apiKey, "p1", `{"transactionId":12,"items":[{"id":"a","quantity":1}]}`, nil, 400, `\"transactionId\" must be a string`},
		{"empty transactionId", apiKey, "p1", `{"transactionId":"","items":[{"id":"a","quantity":1}]}`, nil, 400, "must not be empty"},
		{"control char in transactionId", apiKey, "p1", `{"transactionId":"a\u0000b","items":[{"id":"a","quantity":1}]}`, nil, 400, "control"},
		{"lone surrogate escape in transactionId", apiKey, "p1", `{"transactionId":"sur\ud800","items":[{"id":"a","quantity":1}]}`, nil, 400, "replacement character (U+FFFD)"},
		{"missing items", apiKey, "p1", `{"transactionId":"t1"}`, nil, 400, `missing field \"items\"`},
		{"items not array", apiKey, "p1", `{"transactionId":"t1","items":{"id":"a"}}`, nil, 400, `\"items\" must be an array`},
		{"empty items", apiKey, "p1", `{"transactionId":"t1","items":[]}`, nil, 400, "at least one item"},
		{"item not object", apiKey, "p1", `{"transactionId":"t1","items":["a"]}`, nil, 400, "items[0] must be an object"},
		{"item without id", apiKey, "p1", `{"transactionId":"t1","items":[{"quantity":1}]}`, nil, 400, `missing field \"items[0].id\"`},
		{"item without quantity", apiKey, "p1", `{"transactionId":"t1","items":[{"id":"a"}]}`, nil, 400, `missing field \"items[0].quantity\"`},
		{"quantity as string", apiKey, "p1", `{"transactionId":"t1","items":[{"id":"a","quantity":"1"}]}`, nil, 400, `\"items[0].quantity\" must be an integer`},
		{"quantity zero", apiKey, "p1", `{"transactionId":"t1","items":[{"id":"a","quantity":0}]}`, nil, 400, "from 1 to 10000, got 0"},
		{"quantity negative", apiKey, "p1", `{"transactionId":"t1","items":[{"id":"a","quantity":-3}]}`, nil, 400, "got -3"},
		{"quantity fractional", apiKey, "p1", `{"transactionId":"t1","items":[{"id":"a","quantity":1.5}]}`, nil, 400, "whole number"},
		{"quantity absurd", apiKey, "p1", `{"transactionId":"t1","items":[{"id":"a","quantity":10001}]}`, nil, 400, "got 10001"},
		{"quantity overflow", apiKey, "p1", `{"transactionId":"t1","items":[{"id":"a","quantity":99999999999999999999}]}`, nil, 400, "from 1 to 10000"},
		{"merged quantity absurd", apiKey, "p1", purchase("t1", "a", 6000, "a", 6000), nil, 400, "total quantity 12000"},
		{"too many items", apiKey, "p1", many, nil, 400, "at most 50"},
		{"player id too long", apiKey, strings.Repeat("p", 129), purchase("t1", "a", 1), nil, 400, "playerId"},
		{"body over the limit", apiKey, "p1", big, nil, 413, "larger than"},
	}
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, ddbtest.StackOptions{})
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e.tr.Reset()
				code, body := e.authorize(c.player, c.key, c.body, c.headers...)
				if code != c.status || !strings.Contains(body, c.message) {
					t.Fatalf("got %d %s, want %d containing %q", code, body, c.status, c.message)
				}
				var shape map[string]string
				if err := json.Unmarshal([]byte(body), &shape); err != nil || shape["error"] == "" || len(shape) != 1 {
					t.Fatalf("error body %s is not {\"error\": \"...\"}", body)
				}
				if calls := e.tr.Calls(); len(calls) != 0 {
					t.Fatalf("a refused request touched DynamoDB: %v", calls)
				}
			})
		}
		assertInventory(t, e.inventory("p1"))
	})
}

// Two x-api-key headers are ambiguous (which one counts differs between
// proxies), so the call is refused whatever the values: with "first wins",
// (wrong, right) answered 200 and let Stash charge.
func TestRepeatedKeyHeaderIsRefused(t *testing.T) {
	e := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{})
	cases := []struct {
		name string
		keys []string
	}{
		{"wrong then right", []string{"nope", apiKey}},
		{"right then wrong", []string{apiKey, "nope"}},
		{"right twice", []string{apiKey, apiKey}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.tr.Reset()
			req := httptest.NewRequest(http.MethodPost, "/purchase/p1", strings.NewReader(purchase(fmt.Sprint("rk", i), "a", 1)))
			req.Header.Set("Content-Type", "application/json")
			for _, k := range c.keys {
				req.Header.Add("x-api-key", k)
			}
			rec := httptest.NewRecorder()
			e.router.ServeHTTP(rec, req)
			if body := strings.TrimSpace(rec.Body.String()); rec.Code != http.StatusUnauthorized || body != `{"error":"Unauthorized"}` {
				t.Fatalf("got %d %s, want 401 {\"error\":\"Unauthorized\"}", rec.Code, body)
			}
			if calls := e.tr.Calls(); len(calls) != 0 {
				t.Fatalf("a refused request touched DynamoDB: %v", calls)
			}
		})
	}
	assertInventory(t, e.inventory("p1"))
}

func TestConfigurableKeyHeader(t *testing.T) {
	e := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Env: map[string]string{
		"STASH_API_KEY": apiKey, "GAME_SERVER_KEY": gameKey, "STASH_API_KEY_HEADER": "x-studio-key",
	}})
	if code, _ := e.authorize("p1", apiKey, purchase("t1", "a", 1)); code != http.StatusUnauthorized {
		t.Fatalf("key in x-api-key with header x-studio-key configured: %d, want 401", code)
	}
	e.beyond = true // the contract documents the default header, x-api-key
	if code, body := e.authorize("p1", "", purchase("t1", "a", 1), "x-studio-key", apiKey); code != http.StatusOK {
		t.Fatalf("key in x-studio-key: %d %s", code, body)
	}
}

// 50 goroutines send the same authorization at once: every answer is 200 and
// the items are granted exactly once.
func TestConcurrentSameAuthorizationGrantsOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, ddbtest.StackOptions{})
		body := purchase("race-1", "gem", 7, "coin", 100)
		const n = 50
		codes := make([]int, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				codes[i], _ = e.authorize("racer", apiKey, body)
			}()
		}
		close(start)
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				t.Fatalf("call %d answered %d, want 200", i, c)
			}
		}
		assertInventory(t, e.inventory("racer"), "coin", 100, "gem", 7)
		applied := 0
		for _, op := range e.tr.Calls() {
			if op == "TransactWriteItems" {
				applied++
			}
		}
		if applied < n {
			t.Fatalf("expected every request to attempt its transaction, saw %d", applied)
		}
	})
}

// DynamoDB failing: 5xx so Stash does not charge, nothing granted; the retry
// grants once. Every fault at every call, with the SDK's own retries off so
// the fault reaches the handler.
func TestDynamoDBFailures(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		for _, fault := range ddbtest.AllFaults {
			t.Run(fault.String(), func(t *testing.T) {
				e := newEnv(t, b, ddbtest.StackOptions{MaxAttempts: 1})
				body := purchase("tx-"+fault.String(), "gem", 3)
				e.tr.Inject(func(call int, op string) ddbtest.Fault { return fault })
				code, resp := e.authorize("victim", apiKey, body)
				if code < 500 || !strings.Contains(resp, `"error"`) {
					t.Fatalf("with DynamoDB failing (%s): %d %s, want 5xx", fault, code, resp)
				}
				e.tr.Inject(nil)
				if fault != ddbtest.LoseResponse {
					assertInventory(t, e.inventory("victim"))
				}
				// Stash retries: exactly one grant, whatever reached the store.
				if code, resp := e.authorize("victim", apiKey, body); code != http.StatusOK {
					t.Fatalf("retry: %d %s", code, resp)
				}
				if code, _ := e.authorize("victim", apiKey, body); code != http.StatusOK {
					t.Fatalf("second retry: %d", code)
				}
				assertInventory(t, e.inventory("victim"), "gem", 3)
			})
		}
	})
}

// With the SDK's retries on (as deployed), a lost answer after the write
// reached the store is retried by the SDK, meets the record, and is answered
// as the replay it is: 200 on the first call, one grant.
func TestLostResponseIsRetriedIntoReplay(t *testing.T) {
	eachBackend(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, ddbtest.StackOptions{})
		e.tr.Inject(func(call int, op string) ddbtest.Fault {
			if call == 1 {
				return ddbtest.LoseResponse
			}
			return ddbtest.NoFault
		})
		code, resp := e.authorize("p9", apiKey, purchase("lost-1", "gem", 2))
		if code != http.StatusOK {
			t.Fatalf("%d %s", code, resp)
		}
		e.tr.Inject(nil)
		assertInventory(t, e.inventory("p9"), "gem", 2)
	})
}

func TestEmulatorOutage(t *testing.T) {
	e := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{MaxAttempts: 1})
	e.stack.Minidyn.EmulateFailure(miniserver.FailureConditionInternalServerError)
	code, resp := e.authorize("p1", apiKey, purchase("outage-1", "gem", 1))
	if code != http.StatusServiceUnavailable {
		t.Fatalf("%d %s", code, resp)
	}
	e.stack.Minidyn.EmulateFailure(miniserver.FailureConditionNone)
	if code, _ := e.authorize("p1", apiKey, purchase("outage-1", "gem", 1)); code != http.StatusOK {
		t.Fatalf("after the outage: %d", code)
	}
	assertInventory(t, e.inventory("p1"), "gem", 1)
}
