package handler_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	miniserver "github.com/truora/minidyn/server"

	"github.com/tollgate-dev/tollgate/internal/dev/contract"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const (
	egressKey = "player-egress-key"
	gameKey   = "player-game-key"
)

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

type env struct {
	t      *testing.T
	stack  *localenv.Stack
	tr     *ddbtest.Transport
	mux    *http.ServeMux
	signed int  // lookups signed so far
	beyond bool // the next lookups are outside the contract on purpose (contract.Beyond)
}

func newEnv(t *testing.T, b ddbtest.Backend, maxAttempts int, vars map[string]string) *env {
	t.Helper()
	e := &env{t: t, mux: http.NewServeMux()}
	if vars == nil {
		vars = map[string]string{}
	}
	vars["STASH_EGRESS_KEY"], vars["GAME_SERVER_KEY"] = egressKey, gameKey
	d := ddbtest.NewEnv(t, b, ddbtest.StackOptions{Env: vars, MaxAttempts: maxAttempts, Now: func() time.Time { return now }})
	e.stack, e.tr = d.Stack, d.Transport
	e.mux.Handle("GET /api/v1/player", d.Handler(t, "PlayerFunction"))
	e.mux.Handle("PUT /api/v1/players/{playerId}", d.Handler(t, "PlayerProfileFunction"))
	return e
}

// put stores a profile as the game server does.
func (e *env) put(playerID, body string) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPut, "/api/v1/players/"+playerID, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+gameKey)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("PUT %s: %d %s", playerID, rec.Code, rec.Body)
	}
}

// get sends Stash's lookup, v1-signed unless header says otherwise, and
// checks the answer against the contract (ddbtest.Checked).
func (e *env) get(query string, header ...string) (int, string) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/player?"+query, nil)
	if e.beyond {
		req = contract.Beyond(req)
	}
	if len(header) == 2 {
		if header[0] != "" {
			req.Header.Set(header[0], header[1])
		}
	} else {
		// Each at its own millisecond: a lookup's v1 signature is refused
		// for another query (stashhttp.HandleQuery).
		e.signed++
		req.Header.Set(auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", now.Add(time.Duration(e.signed)*time.Millisecond), nil))
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	body := strings.TrimSpace(rec.Body.String())
	return rec.Code, body
}

func TestPlayer(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, 0, nil)
			// inGameCurrency at the most a profile holds (2^53-1), which minidyn
			// keeps exactly although its projected reads go through float64.
			e.put("alice", `{"name":"Alice","avatarUrl":"https://cdn.example.com/alice.png","language":"pt-BR","inGameLevel":"42","inGameCurrency":9007199254740991}`)
			e.put("bob", `{"name":"Bob"}`)
			tests := []struct {
				name, query string
				status      int
				body        string
			}{
				{"stored profile", "playerId=alice", 200,
					`{"player":{"playerId":"alice","name":"Alice","avatarUrl":"https://cdn.example.com/alice.png","language":"pt-BR","inGameLevel":42,"inGameCurrency":9007199254740991}}`},
				{"defaults", "playerId=bob&shopId=shop-1&environment=PAYMENT_ENVIRONMENT_PRODUCTION", 200,
					`{"player":{"playerId":"bob","name":"Bob","inGameLevel":1,"inGameCurrency":0}}`},
				{"snake_case", "player_id=bob", 200, `{"player":{"playerId":"bob","name":"Bob","inGameLevel":1,"inGameCurrency":0}}`},
				{"unknown player", "playerId=carol", 404, `{"code":5,"message":"no player with playerId carol","details":[]}`},
				{"ids are case-sensitive", "playerId=Alice", 404, `{"code":5,"message":"no player with playerId Alice","details":[]}`},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e.tr.Reset()
					e.beyond = tt.name == "snake_case" // Stash's contract names it playerId
					code, body := e.get(tt.query)
					if code != tt.status || body != tt.body {
						t.Fatalf("got %d %s\nwant %d %s", code, body, tt.status, tt.body)
					}
					if calls := e.tr.Calls(); len(calls) != 1 || calls[0] != "GetItem" {
						t.Errorf("lookup made DynamoDB calls %v, want one GetItem", calls)
					}
				})
			}
		})
	}
}

func TestPlayerRefusals(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, 0, map[string]string{"STASH_LEGACY_SIGNATURES": "false"})
			v1 := func(ms int) string {
				return auth.SignStashV1([]byte(egressKey), "shop-1", now.Add(time.Duration(ms)*time.Millisecond), nil)
			}
			tests := []struct {
				name, query, header, value string
				status                     int
				body                       string
			}{
				{"no playerId", "shopId=s", auth.HeaderStashSignature, v1(1), 400, `{"code":3,"message":"missing query parameter \"playerId\"","details":[]}`},
				{"playerId too long", "playerId=" + strings.Repeat("p", 129), auth.HeaderStashSignature, v1(2), 400,
					`{"code":3,"message":"field \"playerId\" is longer than 128 characters","details":[]}`},
				{"bad environment", "playerId=alice&environment=prod", auth.HeaderStashSignature, v1(3), 400, ""},
				{"playerId twice", "playerId=alice&playerId=bob", auth.HeaderStashSignature, v1(4), 400, ""},
				{"missing signature", "playerId=alice", "", "", 401, `{"code":16,"message":"invalid or missing Stash signature","details":[]}`},
				{"stale signature", "playerId=alice", auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", now.Add(-time.Hour), nil), 401, ""},
				{"legacy disabled", "playerId=alice", auth.HeaderStashLegacySignature, auth.SignStashLegacy([]byte(egressKey), nil), 401, ""},
				{"game server key is not a signature", "playerId=alice", "Authorization", "Bearer " + gameKey, 401, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e.tr.Reset()
					code, body := e.get(tt.query, tt.header, tt.value)
					if code != tt.status || (tt.body != "" && body != tt.body) {
						t.Fatalf("got %d %s, want %d %s", code, body, tt.status, tt.body)
					}
					if calls := e.tr.Calls(); len(calls) != 0 {
						t.Errorf("a refused lookup made DynamoDB calls %v", calls)
					}
				})
			}
			// Legacy signatures sign the empty body: refused on lookups
			// unless turned on for them.
			legacy := auth.SignStashLegacy([]byte(egressKey), nil)
			if code, body := newEnv(t, b, 0, nil).get("playerId=alice", auth.HeaderStashLegacySignature, legacy); code != 401 {
				t.Errorf("legacy signature by default: %d %s, want 401", code, body)
			}
			l := newEnv(t, b, 0, map[string]string{"STASH_LEGACY_SIGNATURES_FOR_LOOKUPS": "true"})
			if code, body := l.get("playerId=alice", auth.HeaderStashLegacySignature, legacy); code != 404 {
				t.Errorf("legacy signature turned on for lookups: %d %s, want 404 (checked, then not found)", code, body)
			}
		})
	}
}

func TestPlayerStoreFailure(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, 1, nil)
			e.put("alice", `{"name":"Alice"}`)
			if e.stack.Minidyn != nil {
				e.stack.Minidyn.EmulateFailure(miniserver.FailureConditionInternalServerError)
			} else {
				e.tr.Inject(func(int, string) ddbtest.Fault { return ddbtest.Fail500 })
			}
			if code, body := e.get("playerId=alice"); code != http.StatusServiceUnavailable ||
				body != `{"code":14,"message":"temporarily unavailable; nothing changed; retry","details":[]}` {
				t.Fatalf("got %d %s, want 503 code 14", code, body)
			}
		})
	}
}
