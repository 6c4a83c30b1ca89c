package stripe

import (
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/money"
)

// stripeZeroDecimal are the currencies Stripe counts in whole units
// (docs.stripe.com/currencies#zero-decimal).
var stripeZeroDecimal = strings.Fields("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF")

// Every currency Stripe takes is charged in the ISO 4217 minor units the
// order is kept in: Stripe's zero-decimal currencies have ISO exponent 0,
// the others 2, except the special cases, which are refused.
func TestTakesCurrencyInISOMinorUnits(t *testing.T) {
	zero := map[string]bool{}
	for _, c := range stripeZeroDecimal {
		zero[c] = true
	}
	a := New(Options{})
	taken := 0
	for _, lower := range presentment {
		code := strings.ToUpper(lower)
		exp, err := money.Exponent(code)
		if err != nil {
			t.Errorf("Stripe lists %s, money does not know it: %v", code, err)
			continue
		}
		stripeExp := 2
		if zero[code] {
			stripeExp = 0
		}
		if exp == 3 {
			stripeExp = 3
		}
		err = a.TakesCurrency(code)
		switch {
		case exp == stripeExp && code != "ISK" && exp != 3 && err != nil:
			t.Errorf("%s (ISO %d, Stripe %d) refused: %v", code, exp, stripeExp, err)
		case (exp != stripeExp || exp == 3) && err == nil:
			t.Errorf("%s (ISO %d, Stripe %d) taken: amounts would differ or be refused", code, exp, stripeExp)
		case err == nil:
			taken++
		}
	}
	for _, code := range []string{"ISK", "KWD", "BHD", "XXX", "XAU", "gbp", "ABC"} {
		if err := a.TakesCurrency(code); err == nil {
			t.Errorf("%s taken", code)
		}
	}
	t.Logf("Stripe takes %d of the %d currencies it lists in their ISO 4217 minor units", taken, len(presentment))
}
