package auth_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// countingSource counts reads of the keys, so a test can tell a refusal
// that never looked at a key from one that compared against it.
type countingSource struct {
	secrets.Static
	reads int
}

func (s *countingSource) Values(ctx context.Context, name secrets.Name) ([]string, error) {
	s.reads++
	return s.Static.Values(ctx, name)
}

// A credential header given more than once is ambiguous (which value a
// proxy or the runtime picks differs), so every guard refuses it with 401
// whatever the values, without reading the key or logging a value.
func TestRequireRefusesRepeatedCredentialHeaders(t *testing.T) {
	const right, wrong = "right-key", "wrong-key"
	bearer := func(ks auth.Keys, log *slog.Logger, next http.Handler) http.Handler {
		return ks.RequireBearer(secrets.GameServerKey, log, next)
	}
	apiKey := func(ks auth.Keys, log *slog.Logger, next http.Handler) http.Handler {
		return ks.RequireHeader(secrets.StashAPIKey, "x-api-key", log, next)
	}
	tests := []struct {
		name   string
		guard  func(auth.Keys, *slog.Logger, http.Handler) http.Handler
		header http.Header // set as is: non-canonical keys are kept
		status int
		reason string // a substring of the logged reason; "" when let through
	}{
		{"one api key", apiKey, http.Header{"X-Api-Key": {right}}, 200, ""},
		{"api key wrong then right", apiKey, http.Header{"X-Api-Key": {wrong, right}}, 401, `x-api-key is given 2 times`},
		{"api key right then wrong", apiKey, http.Header{"X-Api-Key": {right, wrong}}, 401, `x-api-key is given 2 times`},
		{"api key right twice", apiKey, http.Header{"X-Api-Key": {right, right}}, 401, `x-api-key is given 2 times`},
		{"api key under two spellings", apiKey, http.Header{"x-api-key": {wrong}, "X-API-KEY": {right}}, 401, `x-api-key is given 2 times`},
		{"api key missing", apiKey, http.Header{}, 401, "no credential"},
		{"api key wrong", apiKey, http.Header{"X-Api-Key": {wrong}}, 401, "wrong credential"},
		{"one bearer", bearer, http.Header{"Authorization": {"Bearer " + right}}, 200, ""},
		{"bearer wrong then right", bearer, http.Header{"Authorization": {"Bearer " + wrong, "Bearer " + right}}, 401, `Authorization is given 2 times`},
		{"bearer right then wrong", bearer, http.Header{"Authorization": {"Bearer " + right, "Bearer " + wrong}}, 401, `Authorization is given 2 times`},
		{"bearer and basic", bearer, http.Header{"Authorization": {"Basic x", "Bearer " + right}}, 401, `Authorization is given 2 times`},
		{"bearer three times", bearer, http.Header{"Authorization": {"Bearer " + right, "Bearer " + right, "Bearer " + right}}, 401, `Authorization is given 3 times`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &countingSource{Static: secrets.Static{secrets.StashAPIKey: right, secrets.GameServerKey: right}}
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			called := false
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true })
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header = tt.header
			rec := httptest.NewRecorder()
			tt.guard(auth.Keys{Source: src}, log, next).ServeHTTP(rec, req)
			if rec.Code != tt.status || called != (tt.status == 200) {
				t.Fatalf("got %d (next called: %v), want %d", rec.Code, called, tt.status)
			}
			if tt.reason == "" {
				return
			}
			if body := strings.TrimSpace(rec.Body.String()); body != `{"error":"Unauthorized"}` {
				t.Errorf("body = %s", body)
			}
			if !strings.Contains(logs.String(), tt.reason) {
				t.Errorf("log %q does not give the reason %q", logs.String(), tt.reason)
			}
			if strings.Contains(logs.String(), right) || strings.Contains(logs.String(), wrong) {
				t.Errorf("log %q holds a presented value", logs.String())
			}
			if strings.Contains(tt.reason, "times") && src.reads != 0 {
				t.Errorf("the key was read %d times for an ambiguous credential", src.reads)
			}
		})
	}
}

// ctxSource fails as a Secrets Manager read does when its context ends.
type ctxSource struct{}

func (ctxSource) Values(ctx context.Context, _ secrets.Name) ([]string, error) {
	return nil, ctx.Err()
}

// A key that cannot be read because the caller hung up is not an ERROR;
// one that cannot be read otherwise is.
func TestRequireKeyUnavailableClientGone(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name      string
		ctx       context.Context
		src       secrets.Source
		wantLevel string
	}{
		{"client gone", gone, ctxSource{}, `"level":"INFO"`},
		{"source down", context.Background(), errSource{err: errBackend}, `"level":"ERROR"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			h := auth.Keys{Source: tt.src}.RequireHeader(secrets.StashAPIKey, "x-api-key", log, http.NotFoundHandler())
			req := httptest.NewRequestWithContext(tt.ctx, http.MethodGet, "/", nil)
			req.Header.Set("x-api-key", "k")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(logs.String(), tt.wantLevel) || !strings.Contains(logs.String(), "key unavailable") {
				t.Fatalf("got %d, log %s; want 503 logged with %s", rec.Code, logs.String(), tt.wantLevel)
			}
		})
	}
}
