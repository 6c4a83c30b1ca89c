package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

func TestMatchAny(t *testing.T) {
	tests := []struct {
		name      string
		presented string
		accepted  []string
		want      bool
	}{
		{"equal", "k1", []string{"k1"}, true},
		{"different", "k1", []string{"k2"}, false},
		{"different length, shorter", "k", []string{"k1"}, false},
		{"different length, longer", "k1-and-more", []string{"k1"}, false},
		{"prefix of accepted", "secret", []string{"secret-key"}, false},
		{"case differs", "KEY", []string{"key"}, false},
		{"trailing space differs", "key ", []string{"key"}, false},
		{"empty accepted entry ignored", "k1", []string{"", "k1"}, true},
		{"empty presented never matches an empty entry", "", []string{""}, false},
		{"empty presented, non-empty accepted", "", []string{"k1"}, false},
		{"only empty entries", "k1", []string{"", ""}, false},
		{"empty accepted list", "k1", []string{}, false},
		{"nil accepted list", "k1", nil, false},
		{"current matches", "new", []string{"new", "old"}, true},
		{"previous matches", "old", []string{"new", "old"}, true},
		{"neither matches", "other", []string{"new", "old"}, false},
		{"duplicate accepted values", "k1", []string{"k1", "k1"}, true},
		{"long key", strings.Repeat("x", 4096), []string{strings.Repeat("x", 4096)}, true},
		{"long key differs in the last byte", strings.Repeat("x", 4095) + "y", []string{strings.Repeat("x", 4096)}, false},
		{"binary bytes", "\x00\xff\x01", []string{"\x00\xff\x01"}, true},
		{"unicode", "clé-🔑", []string{"other", "clé-🔑"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.MatchAny(tt.presented, tt.accepted); got != tt.want {
				t.Errorf("MatchAny(%q, %q) = %v, want %v", tt.presented, tt.accepted, got, tt.want)
			}
		})
	}
}

// errSource fails every read.
type errSource struct{ err error }

func (s errSource) Values(context.Context, secrets.Name) ([]string, error) { return nil, s.err }

// rotatingSource is a caching Source whose value changes when it is
// refreshed: before holds the values served until Refresh, after those
// served once Refresh reported true.
type rotatingSource struct {
	before, after map[secrets.Name][]string

	refreshResult bool  // what Refresh reports
	refreshErr    error // what Refresh returns

	refreshed     bool
	refreshCalls  int
	valuesCalls   int
	valuesErrFrom int // when > 0, the valuesErrFrom-th Values call and later fail
}

var errBackend = errors.New("backend down")

func (s *rotatingSource) Values(_ context.Context, name secrets.Name) ([]string, error) {
	s.valuesCalls++
	if s.valuesErrFrom > 0 && s.valuesCalls >= s.valuesErrFrom {
		return nil, errBackend
	}
	if s.refreshed {
		return s.after[name], nil
	}
	return s.before[name], nil
}

func (s *rotatingSource) Refresh(context.Context) (bool, error) {
	s.refreshCalls++
	if s.refreshErr != nil {
		return false, s.refreshErr
	}
	if s.refreshResult {
		s.refreshed = true
	}
	return s.refreshResult, nil
}

var (
	_ secrets.Source    = (*rotatingSource)(nil)
	_ secrets.Refresher = (*rotatingSource)(nil)
)

func TestKeysCheckStatic(t *testing.T) {
	keys := auth.Keys{Source: secrets.Static{secrets.StashAPIKey: "right", secrets.GameServerKey: "game"}}
	tests := []struct {
		name      string
		key       secrets.Name
		presented string
		wantErr   error
	}{
		{"empty presented", secrets.StashAPIKey, "", auth.ErrUnauthorized},
		{"wrong", secrets.StashAPIKey, "wrong", auth.ErrUnauthorized},
		{"right", secrets.StashAPIKey, "right", nil},
		{"right value of another key", secrets.StashAPIKey, "game", auth.ErrUnauthorized},
		{"other key right", secrets.GameServerKey, "game", nil},
		{"unconfigured key refuses everything", secrets.StashWebhookSecret, "right", auth.ErrUnauthorized},
		{"unconfigured key refuses empty", secrets.StashWebhookSecret, "", auth.ErrUnauthorized},
		{"right with whitespace", secrets.StashAPIKey, " right", auth.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := keys.Check(context.Background(), tt.key, tt.presented)
			if err != tt.wantErr { // ErrUnauthorized is returned unwrapped
				t.Errorf("Check(%s, %q) = %v, want %v", tt.key, tt.presented, err, tt.wantErr)
			}
		})
	}
}

func TestKeysCheckSourceError(t *testing.T) {
	tests := []struct {
		name      string
		presented string
		wantErr   bool
	}{
		{"non-empty key", "anything", true},
		{"empty key is refused before the source is read", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := auth.Keys{Source: errSource{err: errBackend}}
			err := keys.Check(context.Background(), secrets.StashAPIKey, tt.presented)
			if !tt.wantErr {
				if !errors.Is(err, auth.ErrUnauthorized) {
					t.Errorf("Check = %v, want ErrUnauthorized", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Check = nil, want an error")
			}
			if errors.Is(err, auth.ErrUnauthorized) {
				t.Errorf("Check = %v: a source failure must not be ErrUnauthorized (the caller answers 5xx)", err)
			}
			if !errors.Is(err, errBackend) {
				t.Errorf("Check = %v, does not wrap the source error", err)
			}
			if !strings.Contains(err.Error(), string(secrets.StashAPIKey)) {
				t.Errorf("Check = %v, does not name the key", err)
			}
		})
	}
}

func TestKeysCheckRefresher(t *testing.T) {
	before := map[secrets.Name][]string{secrets.StashAPIKey: {"old"}}
	after := map[secrets.Name][]string{secrets.StashAPIKey: {"new", "old"}}
	tests := []struct {
		name          string
		presented     string
		refreshResult bool
		refreshErr    error
		valuesErrFrom int

		wantErr          error // compared with errors.Is; nil means success
		wantUnauthorized bool  // wantErr must not be ErrUnauthorized when false and wantErr != nil
		wantRefreshCalls int
		wantValuesCalls  int
	}{
		{
			name: "known key: no refresh", presented: "old", refreshResult: true,
			wantRefreshCalls: 0, wantValuesCalls: 1,
		},
		{
			name: "key only known after refresh is accepted", presented: "new", refreshResult: true,
			wantRefreshCalls: 1, wantValuesCalls: 2,
		},
		{
			name: "unknown key even after refresh", presented: "bogus", refreshResult: true,
			wantErr: auth.ErrUnauthorized, wantUnauthorized: true,
			wantRefreshCalls: 1, wantValuesCalls: 2,
		},
		{
			name: "refresh reports false: no re-check", presented: "new", refreshResult: false,
			wantErr: auth.ErrUnauthorized, wantUnauthorized: true,
			wantRefreshCalls: 1, wantValuesCalls: 1,
		},
		{
			name: "empty key: neither read nor refresh", presented: "", refreshResult: true,
			wantErr: auth.ErrUnauthorized, wantUnauthorized: true,
			wantRefreshCalls: 0, wantValuesCalls: 0,
		},
		{
			name: "refresh fails", presented: "new", refreshErr: errBackend,
			wantErr:          errBackend,
			wantRefreshCalls: 1, wantValuesCalls: 1,
		},
		{
			name: "re-check after refresh fails", presented: "new", refreshResult: true, valuesErrFrom: 2,
			wantErr:          errBackend,
			wantRefreshCalls: 1, wantValuesCalls: 2,
		},
		{
			name: "first read fails: no refresh", presented: "new", refreshResult: true, valuesErrFrom: 1,
			wantErr:          errBackend,
			wantRefreshCalls: 0, wantValuesCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &rotatingSource{
				before: before, after: after,
				refreshResult: tt.refreshResult, refreshErr: tt.refreshErr,
				valuesErrFrom: tt.valuesErrFrom,
			}
			err := auth.Keys{Source: src}.Check(context.Background(), secrets.StashAPIKey, tt.presented)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("Check(%q) = %v, want nil", tt.presented, err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Check(%q) = %v, want %v", tt.presented, err, tt.wantErr)
			case tt.wantErr != nil && !tt.wantUnauthorized && errors.Is(err, auth.ErrUnauthorized):
				t.Errorf("Check(%q) = %v: a source failure must not be ErrUnauthorized", tt.presented, err)
			}
			if src.refreshCalls != tt.wantRefreshCalls {
				t.Errorf("Refresh called %d times, want %d", src.refreshCalls, tt.wantRefreshCalls)
			}
			if src.valuesCalls != tt.wantValuesCalls {
				t.Errorf("Values called %d times, want %d", src.valuesCalls, tt.wantValuesCalls)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name   string
		header []string // Authorization values; nil means no header
		want   string
	}{
		{"canonical", []string{"Bearer x"}, "x"},
		{"lower case scheme", []string{"bearer x"}, "x"},
		{"upper case scheme, extra spaces", []string{"BEARER  x "}, "x"},
		{"mixed case scheme", []string{"bEaReR tok"}, "tok"},
		{"long token", []string{"Bearer abc.def-ghi_jkl"}, "abc.def-ghi_jkl"},
		{"missing header", nil, ""},
		{"empty header", []string{""}, ""},
		{"basic scheme", []string{"Basic x"}, ""},
		{"scheme alone", []string{"Bearer"}, ""},
		{"scheme and space", []string{"Bearer "}, ""},
		{"scheme and spaces only", []string{"Bearer    "}, ""},
		{"no space after scheme", []string{"Bearerx"}, ""},
		{"token without scheme", []string{"x"}, ""},
		{"scheme as a suffix", []string{"NotBearer x"}, ""},
		{"several headers: none is chosen", []string{"Bearer first", "Bearer second"}, ""},
		{"the same token twice", []string{"Bearer x", "Bearer x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, v := range tt.header {
				r.Header.Add("Authorization", v)
			}
			if got := auth.BearerToken(r); got != tt.want {
				t.Errorf("BearerToken(%q) = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}
