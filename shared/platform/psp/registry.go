package psp

import "fmt"

// TestModeOnly is implemented by adapters that must never serve live
// payments (the sandbox): the registry answers ErrNotConfigured for them
// outside test mode.
type TestModeOnly interface {
	TestModeOnly() bool
}

// Registry holds the adapters by PSP-Type. PSP-Types without an adapter
// (BS_PAYONE, BRAINTREE, ADYEN today) answer ErrNotConfigured, as the
// original's "no configuration for this PSP".
type Registry struct {
	adapters map[Type]Adapter
}

// NewRegistry returns a registry of adapters (one per Type; a later one
// replaces an earlier one of the same Type).
func NewRegistry(adapters ...Adapter) *Registry {
	r := &Registry{adapters: make(map[Type]Adapter, len(adapters))}
	for _, a := range adapters {
		r.adapters[a.Type()] = a
	}
	return r
}

// Get returns the adapter for t in the given mode; ErrNotConfigured (wrapped,
// naming t) when there is none, and for a test-only adapter in live mode.
func (r *Registry) Get(t Type, testMode bool) (Adapter, error) {
	return Select(r.adapters, t, testMode)
}

// Select is the one choice of a PSP by Type: the adapter of Type t in
// adapters, for the given mode; ErrNotConfigured (wrapped, naming t) when
// there is none, and for a TestModeOnly adapter outside test mode. The
// payments' Registry selects its Adapters with it, the checkout its intent
// PSPs (Stripe, the checkout sandbox).
func Select[A any](adapters map[Type]A, t Type, testMode bool) (A, error) {
	a, ok := adapters[t]
	if ok && !testMode {
		if tm, isTM := any(a).(TestModeOnly); isTM && tm.TestModeOnly() {
			ok = false
		}
	}
	if !ok {
		var none A
		return none, fmt.Errorf("%w: %s (test mode %t)", ErrNotConfigured, t, testMode)
	}
	return a, nil
}

// Known reports whether s is a PSP-Type the API knows (configured or not).
func Known(s string) (Type, bool) {
	switch t := Type(s); t {
	case Stripe, Sandbox, BSPayone, Braintree, Adyen:
		return t, true
	}
	return "", false
}
