package handler_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	miniserver "github.com/truora/minidyn/server"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const gameKey = "profile-game-key"

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

type env struct {
	t       *testing.T
	stack   *localenv.Stack
	tr      *ddbtest.Transport
	players string // the players table
	mux     *http.ServeMux
}

func newEnv(t *testing.T, b ddbtest.Backend, maxAttempts int) *env {
	t.Helper()
	vars := map[string]string{"GAME_SERVER_KEY": gameKey, "STASH_EGRESS_KEY": "egress", "STASH_API_KEY": "api"}
	d, h := ddbtest.NewFunction(t, b, "PlayerProfileFunction", ddbtest.StackOptions{Env: vars, MaxAttempts: maxAttempts, Now: func() time.Time { return now }})
	e := &env{t: t, stack: d.Stack, tr: d.Transport, players: d.Tables.Players, mux: http.NewServeMux()}
	e.mux.Handle("PUT /api/v1/players/{playerId}", h)
	return e
}

func (e *env) put(path, authorization, contentType, body string) (int, string, http.Header) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String()), rec.Header()
}

func (e *env) stored(playerID string) (players.Profile, bool) {
	e.t.Helper()
	p, found, err := players.Get(context.Background(), e.stack.DB, e.players, playerID)
	if err != nil {
		e.t.Fatal(err)
	}
	return p, found
}

func TestPutProfile(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, 0)
			full := `{"name":"Aria","avatarUrl":"https://cdn.example.com/aria.png","language":"en","inGameLevel":12,"inGameCurrency":1500}`
			want := `{"playerId":"p 1","name":"Aria","avatarUrl":"https://cdn.example.com/aria.png","language":"en","inGameLevel":12,"inGameCurrency":1500,"updatedAt":"2026-11-21T12:00:00Z"}`
			// Created, then the same PUT again: the same 200 and the same row,
			// one PutItem each.
			for i := 0; i < 2; i++ {
				e.tr.Reset()
				code, body, _ := e.put("/api/v1/players/p%201", "Bearer "+gameKey, "application/json; charset=utf-8", full)
				if code != http.StatusOK || body != want {
					t.Fatalf("PUT %d: %d %s\nwant 200 %s", i+1, code, body, want)
				}
				if calls := e.tr.Calls(); len(calls) != 1 || calls[0] != "PutItem" {
					t.Fatalf("PUT made DynamoDB calls %v, want one PutItem", calls)
				}
			}
			if p, found := e.stored("p 1"); !found || p.Name != "Aria" || p.InGameLevel != 12 || p.AvatarURL == "" {
				t.Fatalf("stored %+v %v", p, found)
			}
			// A PUT replaces the whole profile: what it leaves out is cleared
			// or back to its default.
			code, body, _ := e.put("/api/v1/players/p%201", "bearer "+gameKey, "application/json", `{"name":"Aria II"}`)
			if code != http.StatusOK || body != `{"playerId":"p 1","name":"Aria II","inGameLevel":1,"inGameCurrency":0,"updatedAt":"2026-11-21T12:00:00Z"}` {
				t.Fatalf("replacing PUT: %d %s", code, body)
			}
			if p, _ := e.stored("p 1"); p.AvatarURL != "" || p.Language != "" || p.InGameLevel != 1 || p.InGameCurrency != 0 {
				t.Errorf("after replacement stored %+v", p)
			}
		})
	}
}

func TestPutProfileRefusals(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, 0)
			ok := `{"name":"Aria"}`
			tests := []struct {
				name, path, auth, contentType, body string
				status                              int
				want                                string
			}{
				{"no key", "/api/v1/players/p1", "", "application/json", ok, 401, `{"error":"Unauthorized"}`},
				{"wrong key", "/api/v1/players/p1", "Bearer nope", "application/json", ok, 401, `{"error":"Unauthorized"}`},
				{"Stash's key is not the game's", "/api/v1/players/p1", "Bearer egress", "application/json", ok, 401, `{"error":"Unauthorized"}`},
				{"basic scheme", "/api/v1/players/p1", "Basic " + gameKey, "application/json", ok, 401, `{"error":"Unauthorized"}`},
				{"player id too long", "/api/v1/players/" + strings.Repeat("x", 129), "Bearer " + gameKey, "application/json", ok, 400,
					`{"error":"field \"playerId\" is longer than 128 characters"}`},
				{"player id control character", "/api/v1/players/a%01b", "Bearer " + gameKey, "application/json", ok, 400,
					`{"error":"field \"playerId\" holds a control or non-printable character"}`},
				{"no content type", "/api/v1/players/p1", "Bearer " + gameKey, "", ok, 400, `{"error":"request must be JSON: Content-Type header is missing"}`},
				{"form content type", "/api/v1/players/p1", "Bearer " + gameKey, "application/x-www-form-urlencoded", "name=Aria", 400, ""},
				{"too large", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{"name":"` + strings.Repeat("a", 16<<10) + `"}`, 413,
					`{"error":"request body is larger than 16384 bytes"}`},
				{"missing name", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{"inGameLevel":2}`, 400, `{"error":"missing field \"name\""}`},
				{"name too long", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{"name":"` + strings.Repeat("n", 65) + `"}`, 400,
					`{"error":"field \"name\" is longer than 64 characters"}`},
				{"http avatar", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{"name":"A","avatarUrl":"http://x.example/a.png"}`, 400, ""},
				{"language", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{"name":"A","language":"e"}`, 400, ""},
				{"level zero", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{"name":"A","inGameLevel":0}`, 400,
					`{"error":"field \"inGameLevel\" must be at least 1, got 0"}`},
				{"fractional currency", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{"name":"A","inGameCurrency":2.5}`, 400,
					`{"error":"field \"inGameCurrency\" must be an integer, got 2.5"}`},
				{"negative currency", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{"name":"A","inGameCurrency":-5}`, 400, ""},
				{"typo", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{"name":"A","inGameLvl":3}`, 400, ""},
				{"another player's id in the body", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{"playerId":"p2","name":"A"}`, 400, ""},
				{"not JSON", "/api/v1/players/p1", "Bearer " + gameKey, "application/json", `{name: "A"}`, 400, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					e.tr.Reset()
					code, body, h := e.put(tt.path, tt.auth, tt.contentType, tt.body)
					if code != tt.status || (tt.want != "" && body != tt.want) || !strings.HasPrefix(body, `{"error":"`) {
						t.Fatalf("got %d %s, want %d %s", code, body, tt.status, tt.want)
					}
					if code == http.StatusUnauthorized && h.Get("WWW-Authenticate") != `Bearer realm="tollgate"` {
						t.Errorf("WWW-Authenticate %q", h.Get("WWW-Authenticate"))
					}
					if calls := e.tr.Calls(); len(calls) != 0 {
						t.Errorf("a refused PUT made DynamoDB calls %v", calls)
					}
				})
			}
			if _, found := e.stored("p1"); found {
				t.Error("a refused PUT stored a profile")
			}
		})
	}
}

func TestPutProfileStoreFailure(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, 1)
			if e.stack.Minidyn != nil {
				e.stack.Minidyn.EmulateFailure(miniserver.FailureConditionInternalServerError)
			} else {
				e.tr.Inject(func(int, string) ddbtest.Fault { return ddbtest.Fail500 })
			}
			code, body, _ := e.put("/api/v1/players/p1", "Bearer "+gameKey, "application/json", `{"name":"Aria"}`)
			if code != http.StatusServiceUnavailable || body != `{"error":"profile temporarily unavailable; nothing changed; retry"}` {
				t.Fatalf("got %d %s, want 503", code, body)
			}
		})
	}
}
