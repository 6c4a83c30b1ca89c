package psp_test

import (
	"errors"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/sandbox"
)

func TestRegistry(t *testing.T) {
	r := psp.NewRegistry(sandbox.New(sandbox.Options{}))
	tests := []struct {
		t        psp.Type
		testMode bool
		ok       bool
	}{
		{psp.Sandbox, true, true},
		{psp.Sandbox, false, false}, // test mode only
		{psp.Stripe, true, false},   // not registered here
		{psp.BSPayone, true, false},
		{psp.Braintree, false, false},
		{psp.Adyen, true, false},
	}
	for _, tt := range tests {
		a, err := r.Get(tt.t, tt.testMode)
		if tt.ok != (err == nil) || (err == nil && a.Type() != tt.t) {
			t.Errorf("Get(%s, %t) = %v, %v", tt.t, tt.testMode, a, err)
		}
		if err != nil && !errors.Is(err, psp.ErrNotConfigured) {
			t.Errorf("Get(%s, %t): %v is not ErrNotConfigured", tt.t, tt.testMode, err)
		}
	}
}

func TestKnown(t *testing.T) {
	for _, s := range []string{"STRIPE", "SANDBOX", "BS_PAYONE", "BRAINTREE", "ADYEN"} {
		if got, ok := psp.Known(s); !ok || string(got) != s {
			t.Errorf("Known(%q) = %q, %t", s, got, ok)
		}
	}
	for _, s := range []string{"", "stripe", "PAYPAL"} {
		if _, ok := psp.Known(s); ok {
			t.Errorf("Known(%q) accepted", s)
		}
	}
}
