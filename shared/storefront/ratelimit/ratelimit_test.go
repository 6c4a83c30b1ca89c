package ratelimit_test

import (
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
)

// A policy's limit comes from its own setting, the window from the one
// shared setting; defaults when unset; a bad value is an error at init.
func TestConfigured(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want ratelimit.Policy
		bad  bool
	}{
		{"defaults", nil, ratelimit.Policy{Name: "p", Limit: 100, Window: time.Minute}, false},
		{"set", map[string]string{"P_LIMIT": "7", "RATE_LIMIT_WINDOW": "10s"}, ratelimit.Policy{Name: "p", Limit: 7, Window: 10 * time.Second}, false},
		{"another policy's limit", map[string]string{"Q_LIMIT": "7"}, ratelimit.Policy{Name: "p", Limit: 100, Window: time.Minute}, false},
		{"zero limit", map[string]string{"P_LIMIT": "0"}, ratelimit.Policy{}, true},
		{"bad window", map[string]string{"RATE_LIMIT_WINDOW": "soon"}, ratelimit.Policy{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := deps.Deps{Getenv: func(k string) string { return c.env[k] }}
			got, err := ratelimit.Configured(d, "p", "P_LIMIT", 100)
			if (err != nil) != c.bad || got != c.want {
				t.Fatalf("%+v, %v; want %+v (error: %v)", got, err, c.want, c.bad)
			}
		})
	}
}
