// Package adapters builds the PSP registry a payments function uses from
// its settings: SANDBOX (test mode only) and STRIPE; the original's other
// PSP-Types answer psp.ErrNotConfigured.
package adapters

import (
	"fmt"
	"net/url"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/sandbox"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/stripe"
)

// Settings read by SettingsFrom.
const (
	// EnvStripeAPIBase is Stripe's API base URL; unset is the real API.
	// Locally and in tests: stripe-mock's address.
	EnvStripeAPIBase = "STRIPE_API_BASE"
	// EnvStripeTimeout bounds each request to Stripe (a Go duration,
	// default stripe.DefaultTimeout).
	EnvStripeTimeout = "STRIPE_TIMEOUT"
)

// Settings configure the adapters.
type Settings struct {
	StripeAPIBase string        // "" = https://api.stripe.com
	StripeTimeout time.Duration // 0 = stripe.DefaultTimeout
}

// SettingsFrom reads the settings from a function's environment.
func SettingsFrom(d deps.Deps) (Settings, error) {
	s := Settings{StripeAPIBase: d.String(EnvStripeAPIBase, "")}
	if s.StripeAPIBase != "" {
		u, err := url.Parse(s.StripeAPIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Settings{}, fmt.Errorf("%s=%q: want an http(s) URL such as http://localhost:12111", EnvStripeAPIBase, s.StripeAPIBase)
		}
	}
	timeout, err := d.Duration(EnvStripeTimeout, stripe.DefaultTimeout)
	if err != nil {
		return Settings{}, err
	}
	s.StripeTimeout = timeout
	return s, nil
}

// New returns the registry: the given sandbox (a new one when nil; make run
// passes the one whose settlements it wires to the notification path) and
// the Stripe adapter.
func New(s Settings, sb *sandbox.Adapter) *psp.Registry {
	if sb == nil {
		sb = sandbox.New(sandbox.Options{})
	}
	return psp.NewRegistry(sb, stripe.New(stripe.Options{APIBase: s.StripeAPIBase, Timeout: s.StripeTimeout}))
}
