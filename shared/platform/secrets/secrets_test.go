package secrets_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// TestMain stops the shared moto_server the Secrets Manager tests start.
func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

func TestEnvVar(t *testing.T) {
	tests := []struct {
		name secrets.Name
		want string
	}{
		{secrets.StashAPIKey, "STASH_API_KEY"},
		{secrets.StashEgressKey, "STASH_EGRESS_KEY"},
		{secrets.StashWebhookSecret, "STASH_WEBHOOK_SECRET"},
		{secrets.GameServerKey, "GAME_SERVER_KEY"},
		{secrets.Name("unknown"), ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.name), func(t *testing.T) {
			if got := tt.name.EnvVar(); got != tt.want {
				t.Errorf("%q.EnvVar() = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
	// Every documented name must have a variable, and no two may share one.
	seen := map[string]secrets.Name{}
	for _, n := range secrets.Names {
		v := n.EnvVar()
		if v == "" {
			t.Errorf("%q has no environment variable", n)
		}
		if other, dup := seen[v]; dup {
			t.Errorf("%q and %q share %s", n, other, v)
		}
		seen[v] = n
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want map[secrets.Name][]string // every name not listed must yield no values
	}{
		{
			name: "nothing set",
			env:  map[string]string{},
			want: map[secrets.Name][]string{},
		},
		{
			name: "every key set",
			env: map[string]string{
				"STASH_API_KEY":        "api",
				"STASH_EGRESS_KEY":     "egress",
				"STASH_WEBHOOK_SECRET": "webhook",
				"GAME_SERVER_KEY":      "game",
			},
			want: map[secrets.Name][]string{
				secrets.StashAPIKey:        {"api"},
				secrets.StashEgressKey:     {"egress"},
				secrets.StashWebhookSecret: {"webhook"},
				secrets.GameServerKey:      {"game"},
			},
		},
		{
			name: "some set, others unset",
			env:  map[string]string{"STASH_API_KEY": "api", "GAME_SERVER_KEY": "game"},
			want: map[secrets.Name][]string{
				secrets.StashAPIKey:   {"api"},
				secrets.GameServerKey: {"game"},
			},
		},
		{
			name: "empty variable is unset",
			env:  map[string]string{"STASH_API_KEY": "", "GAME_SERVER_KEY": "game"},
			want: map[secrets.Name][]string{secrets.GameServerKey: {"game"}},
		},
		{
			name: "unrelated variables ignored",
			env:  map[string]string{"stashApiKey": "field-name-not-var", "PATH": "/bin"},
			want: map[secrets.Name][]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := secrets.FromEnv(func(k string) string { return tt.env[k] })
			if len(src) != len(tt.want) {
				t.Errorf("FromEnv holds %d keys, want %d: %v", len(src), len(tt.want), keysOf(src))
			}
			for _, n := range append(secrets.Names, "unknown") {
				got, err := src.Values(context.Background(), n)
				if err != nil {
					t.Fatalf("Values(%s): %v", n, err)
				}
				if want := tt.want[n]; !reflect.DeepEqual(got, want) {
					t.Errorf("Values(%s) = %q, want %q", n, got, want)
				}
			}
		})
	}
}

func TestFromEnvNilUsesOSEnviron(t *testing.T) {
	t.Setenv("STASH_API_KEY", "from-os")
	t.Setenv("GAME_SERVER_KEY", "")
	src := secrets.FromEnv(nil)
	got, err := src.Values(context.Background(), secrets.StashAPIKey)
	if err != nil || !reflect.DeepEqual(got, []string{"from-os"}) {
		t.Errorf("Values(StashAPIKey) = %q, %v; want [from-os]", got, err)
	}
	got, err = src.Values(context.Background(), secrets.GameServerKey)
	if err != nil || got != nil {
		t.Errorf("Values(GameServerKey) = %q, %v; want none", got, err)
	}
}

func TestStaticValues(t *testing.T) {
	src := secrets.Static{
		secrets.StashAPIKey:    "k1",
		secrets.StashEgressKey: "",
	}
	tests := []struct {
		name secrets.Name
		want []string
	}{
		{secrets.StashAPIKey, []string{"k1"}},
		{secrets.StashEgressKey, nil}, // present but empty: never returned
		{secrets.GameServerKey, nil},  // absent
		{secrets.Name(""), nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.name), func(t *testing.T) {
			got, err := src.Values(context.Background(), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Values(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}

	var nilStatic secrets.Static
	if got, err := nilStatic.Values(context.Background(), secrets.StashAPIKey); err != nil || got != nil {
		t.Errorf("nil Static: Values = %q, %v; want none", got, err)
	}
}

func keysOf(s secrets.Static) []secrets.Name {
	var out []secrets.Name
	for k := range s {
		out = append(out, k)
	}
	return out
}

// A Local source serves what is written to it while it serves (each name
// written once: the first value stays) and reads the rest from its
// fallback.
func TestLocal(t *testing.T) {
	l := &secrets.Local{Fallback: secrets.Static{secrets.GameServerKey: "from-env"}}
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Go(func() { got[i] = l.PutNew("local:shop#v1", fmt.Sprint("value-", i)) })
	}
	wg.Wait()
	for _, v := range got {
		if v != got[0] {
			t.Fatalf("PutNew answered %q and %q", got[0], v)
		}
	}
	if v, err := l.Values(context.Background(), "local:shop#v1"); err != nil || len(v) != 1 || v[0] != got[0] {
		t.Fatalf("written name: %v %v", v, err)
	}
	if v, _ := l.Values(context.Background(), secrets.GameServerKey); len(v) != 1 || v[0] != "from-env" {
		t.Fatalf("fallback: %v", v)
	}
	if v, _ := l.Values(context.Background(), "local:other"); len(v) != 0 {
		t.Fatalf("unknown name: %v", v)
	}
}
