package adapters

import (
	"errors"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/sandbox"
)

func env(m map[string]string) deps.Deps {
	return deps.Deps{Getenv: func(k string) string { return m[k] }}
}

func TestSettingsFrom(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want Settings
		ok   bool
	}{
		{nil, Settings{StripeTimeout: 10 * time.Second}, true},
		{map[string]string{EnvStripeAPIBase: "http://127.0.0.1:12111", EnvStripeTimeout: "3s"}, Settings{"http://127.0.0.1:12111", 3 * time.Second}, true},
		{map[string]string{EnvStripeAPIBase: "localhost:12111"}, Settings{}, false},
		{map[string]string{EnvStripeAPIBase: "ftp://x"}, Settings{}, false},
		{map[string]string{EnvStripeTimeout: "-1s"}, Settings{}, false},
	}
	for _, tt := range tests {
		got, err := SettingsFrom(env(tt.env))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%v: %+v %v", tt.env, got, err)
		}
	}
}

func TestRegistry(t *testing.T) {
	sb := sandbox.New(sandbox.Options{})
	r := New(Settings{}, sb)
	tests := []struct {
		t        psp.Type
		testMode bool
		ok       bool
	}{
		{psp.Sandbox, true, true},
		{psp.Sandbox, false, false},
		{psp.Stripe, true, true},
		{psp.Stripe, false, true},
		{psp.BSPayone, true, false},
		{psp.Braintree, true, false},
		{psp.Adyen, false, false},
	}
	for _, tt := range tests {
		a, err := r.Get(tt.t, tt.testMode)
		if tt.ok != (err == nil) || (err != nil && !errors.Is(err, psp.ErrNotConfigured)) || (err == nil && a.Type() != tt.t) {
			t.Errorf("Get(%s, %t) = %v, %v", tt.t, tt.testMode, a, err)
		}
	}
	if a, _ := r.Get(psp.Sandbox, true); a != psp.Adapter(sb) {
		t.Error("the registry does not hold the sandbox it was given")
	}
}
