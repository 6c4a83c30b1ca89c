package stashhttp_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
	"github.com/tollgate-dev/tollgate/shared/stash/stashhttp"
)

const key = "query-test-key"

var now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

type failingSource struct{}

func (failingSource) Values(context.Context, secrets.Name) ([]string, error) {
	return nil, errors.New("secrets manager down")
}

func TestHandleQuery(t *testing.T) {
	sig := auth.StashSignatures{Keys: auth.Keys{Source: secrets.Static{secrets.StashEgressKey: key}}, AllowLegacy: true, Now: func() time.Time { return now }}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	calls := 0
	decode := func(v url.Values) (string, error) {
		if v.Get("id") == "" {
			return "", decode.Errorf("missing query parameter %q", "id")
		}
		return v.Get("id"), nil
	}
	do := func(_ context.Context, id string) (map[string]string, error) {
		calls++
		switch id {
		case "missing":
			return nil, refusal.New(players.ErrNoProfile, "no such thing")
		case "broken":
			return nil, errors.New("dynamodb: 500")
		}
		return map[string]string{"id": id}, nil
	}
	h := stashhttp.HandleQuery(sig, log, decode, do)
	// Each case signs at its own millisecond: a v1 signature is refused
	// for a second, different lookup (TestHandleQueryReplays).
	v1 := func(ms int) string {
		return auth.SignStashV1([]byte(key), "shop", now.Add(time.Duration(ms)*time.Millisecond), nil)
	}
	tests := []struct {
		name, query string
		header      map[string]string
		body        string
		status      int
		want        string
		acted       bool
	}{
		{"v1 over the empty body", "id=a", map[string]string{auth.HeaderStashSignature: v1(1)}, "", 200, `{"id":"a"}`, true},
		{"a body sent with the GET is not what is signed", "id=a", map[string]string{auth.HeaderStashSignature: v1(2)}, `{"x":1}`, 200, `{"id":"a"}`, true},
		{"legacy refused on lookups by default", "id=a", map[string]string{auth.HeaderStashLegacySignature: auth.SignStashLegacy([]byte(key), nil)}, "", 401, `{"code":16,`, false},
		{"signed over the query string", "id=a", map[string]string{auth.HeaderStashSignature: auth.SignStashV1([]byte(key), "shop", now, []byte("id=a"))}, "", 401, `{"code":16,`, false},
		{"missing signature", "id=a", nil, "", 401, `{"code":16,"message":"invalid or missing Stash signature","details":[]}`, false},
		{"stale signature", "id=a", map[string]string{auth.HeaderStashSignature: auth.SignStashV1([]byte(key), "shop", now.Add(-6*time.Minute), nil)}, "", 401, `{"code":16,`, false},
		{"wrong key", "id=a", map[string]string{auth.HeaderStashSignature: auth.SignStashV1([]byte("other"), "shop", now, nil)}, "", 401, `{"code":16,`, false},
		{"signature checked before the query", "id=%zz", nil, "", 401, `{"code":16,`, false},
		{"malformed query", "id=%zz", map[string]string{auth.HeaderStashSignature: v1(3)}, "", 400, `{"code":3,"message":"malformed query string: invalid URL escape \"%zz\"","details":[]}`, false},
		{"decode refusal", "other=1", map[string]string{auth.HeaderStashSignature: v1(4)}, "", 400, `{"code":3,"message":"missing query parameter \"id\"","details":[]}`, false},
		{"status error", "id=missing", map[string]string{auth.HeaderStashSignature: v1(5)}, "", 404, `{"code":5,"message":"no such thing","details":[]}`, true},
		{"other error", "id=broken", map[string]string{auth.HeaderStashSignature: v1(6)}, "", 503, `{"code":14,"message":"temporarily unavailable; nothing changed; retry","details":[]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = 0
			req := httptest.NewRequest(http.MethodGet, "/q?"+tt.query, strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := strings.TrimSpace(rec.Body.String())
			if rec.Code != tt.status || !strings.HasPrefix(body, tt.want) {
				t.Fatalf("got %d %s, want %d %s", rec.Code, body, tt.status, tt.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if (calls == 1) != tt.acted {
				t.Errorf("action called %d times, want acted=%v", calls, tt.acted)
			}
		})
	}
	if !strings.Contains(logs.String(), `"msg":"signature refused"`) || !strings.Contains(logs.String(), `"msg":"call failed; nothing changed"`) {
		t.Errorf("refusals and failures are not logged: %s", logs.String())
	}
}

func TestHandleQueryKeyUnavailable(t *testing.T) {
	sig := auth.StashSignatures{Keys: auth.Keys{Source: failingSource{}}, Now: func() time.Time { return now }}
	h := stashhttp.HandleQuery(sig, slog.New(slog.DiscardHandler), func(url.Values) (int, error) { return 0, nil },
		func(context.Context, int) (int, error) { t.Fatal("acted without a checked signature"); return 0, nil })
	req := httptest.NewRequest(http.MethodGet, "/q", nil)
	req.Header.Set(auth.HeaderStashSignature, auth.SignStashV1([]byte(key), "shop", now, nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"code":14`) {
		t.Fatalf("got %d %s, want 503 code 14", rec.Code, rec.Body)
	}
}

func TestSignatures(t *testing.T) {
	env := map[string]string{"STASH_LEGACY_SIGNATURES": "false", "STASH_SHOP_ID": "shop-1"}
	d := deps.Deps{Secrets: secrets.Static{}, Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return now }}
	sig, err := stashhttp.Signatures(d)
	if err != nil {
		t.Fatal(err)
	}
	if sig.AllowLegacy || sig.ShopID != "shop-1" || sig.Now == nil || !sig.Now().Equal(now) {
		t.Errorf("signatures %+v not configured from the environment and the clock", sig)
	}
	env["STASH_SIGNATURE_WINDOW"] = "forever"
	if _, err := stashhttp.Signatures(d); err == nil {
		t.Error("Signatures accepted an unparsable window")
	}
}

// A lookup's legacy signature is the HMAC of "", one constant for every
// lookup: it is refused unless both settings turn it on. POSTs keep it by
// default (it covers the exact body there).
func TestHandleQueryLegacySignatures(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		status int
	}{
		{"refused by default", nil, 401},
		{"refused with legacy on for POSTs only", map[string]string{"STASH_LEGACY_SIGNATURES": "true"}, 401},
		{"accepted when turned on for lookups", map[string]string{"STASH_LEGACY_SIGNATURES_FOR_LOOKUPS": "true"}, 200},
		{"refused when legacy is off altogether", map[string]string{"STASH_LEGACY_SIGNATURES": "false", "STASH_LEGACY_SIGNATURES_FOR_LOOKUPS": "true"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stashhttp.ResetLegacyWarning() // each case is a process of its own
			var logs bytes.Buffer
			d := deps.Deps{
				Secrets: secrets.Static{secrets.StashEgressKey: key},
				Getenv:  func(k string) string { return tt.env[k] },
				Now:     func() time.Time { return now },
				Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
			}
			sig, err := stashhttp.Signatures(d)
			if err != nil {
				t.Fatal(err)
			}
			if sig.AllowLegacy != strings.Contains(logs.String(), `"level":"WARN","msg":"legacy Stash signatures are accepted`) {
				t.Errorf("AllowLegacy %v, start log %s", sig.AllowLegacy, logs.String())
			}
			h := stashhttp.HandleQuery(sig, d.Logger, func(url.Values) (int, error) { return 1, nil },
				func(context.Context, int) (int, error) { return 1, nil })
			req := httptest.NewRequest(http.MethodGet, "/api/v1/player?playerId=p1", nil)
			req.Header.Set(auth.HeaderStashLegacySignature, auth.SignStashLegacy([]byte(key), nil))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("legacy-signed GET answered %d %s, want %d", rec.Code, rec.Body, tt.status)
			}
		})
	}
}

// The legacy warning applies to every Stash function of a process: make
// run, which builds them all in one, says it once (a deployed function,
// its own process, still says it at its start).
func TestSignaturesWarnLegacyOncePerProcess(t *testing.T) {
	stashhttp.ResetLegacyWarning()
	var logs bytes.Buffer
	d := deps.Deps{
		Secrets: secrets.Static{secrets.StashEgressKey: key},
		Getenv:  func(string) string { return "" },
		Now:     func() time.Time { return now },
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
	}
	for range 3 { // three functions
		if _, err := stashhttp.Signatures(d); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "legacy Stash signatures are accepted"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logs.String())
	}
}

// One v1 signature opens one lookup: within its window it is refused for
// another path or query, while the same request repeated (Stash's retry)
// is accepted. Steps run in order on one handler.
// TestHandleQueryServesLookupsSignedInOneMillisecond: a GET's v1
// signature binds only its time, so two lookups Stash signs in the same
// millisecond carry the same signature, and both are Stash's own calls.
func TestHandleQueryServesLookupsSignedInOneMillisecond(t *testing.T) {
	sig := auth.StashSignatures{Keys: auth.Keys{Source: secrets.Static{secrets.StashEgressKey: key}}, Now: func() time.Time { return now }}
	var served []string
	h := stashhttp.HandleQuery(sig, slog.New(slog.DiscardHandler), func(v url.Values) (string, error) { return v.Get("playerId"), nil },
		func(_ context.Context, id string) (string, error) { served = append(served, id); return id, nil })
	signature := auth.SignStashV1([]byte(key), "shop", now, nil)
	for _, target := range []string{"/api/v1/player?playerId=p1", "/api/v1/player?playerId=p2", "/api/v1/catalog?playerId=p1"} {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set(auth.HeaderStashSignature, signature)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("%s answered %d %s, want 200", target, rec.Code, rec.Body)
		}
	}
	if want := "p1,p2,p1"; strings.Join(served, ",") != want {
		t.Errorf("served %v, want %s", served, want)
	}
}
