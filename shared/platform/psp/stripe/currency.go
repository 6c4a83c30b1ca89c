package stripe

import (
	"fmt"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/platform/money"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

var _ psp.CurrencyTaker = (*Adapter)(nil)

// presentment are the currencies Stripe charges cards in (its "Supported
// presentment currencies", docs.stripe.com/currencies), lower case as the
// API takes them.
var presentment = strings.Fields(`usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bif bmd bnd bob
brl bsd bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip
gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jpy kes kgs khr kmf krw kyd kzt lak lbp lkr lrd lsl
mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd pab pen pgk php pkr pln pyg
qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs top try ttd twd tzs uah ugx uyu
uzs vnd vuv wst xaf xcd xof xpf yer zar zmw bhd jod kwd omr tnd`)

var presents = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range presentment {
		m[c] = true
	}
	return m
}()

// unlike are Stripe's special cases where its "smallest unit" is not the
// ISO 4217 minor unit Tollgate counts in, or where it refuses some
// amounts Tollgate's exact tax can produce: refused, with the reason,
// rather than charged a different amount than the buyer was shown.
var unlike = map[string]string{
	"ISK": "Stripe counts ISK in hundredths and takes only whole krónur (amounts divisible by 100), while ISO 4217 gives ISK no minor unit",
	"MGA": "Stripe counts MGA as zero-decimal while ISO 4217 gives it 2 decimal places",
	"BHD": "Stripe takes three-decimal currencies only in multiples of 10 minor units, and an exact tax can end in any digit",
	"JOD": "Stripe takes three-decimal currencies only in multiples of 10 minor units, and an exact tax can end in any digit",
	"KWD": "Stripe takes three-decimal currencies only in multiples of 10 minor units, and an exact tax can end in any digit",
	"OMR": "Stripe takes three-decimal currencies only in multiples of 10 minor units, and an exact tax can end in any digit",
	"TND": "Stripe takes three-decimal currencies only in multiples of 10 minor units, and an exact tax can end in any digit",
}

// TakesCurrency says whether Stripe charges code (upper case) in the ISO
// 4217 minor units Tollgate counts in: the amount of an intent is then the
// order's total as is. Every zero-decimal currency Stripe lists (JPY, KRW,
// ...) has ISO exponent 0 too, and every two-decimal one exponent 2.
func (a *Adapter) TakesCurrency(code string) error {
	if _, err := money.Exponent(code); err != nil {
		return fmt.Errorf("%q is not an ISO 4217 currency with a minor unit", code)
	}
	if why, ok := unlike[code]; ok {
		return fmt.Errorf("payments in %s through Stripe are not supported: %s", code, why)
	}
	if !presents[strings.ToLower(code)] {
		return fmt.Errorf("stripe does not charge in %s", code)
	}
	return nil
}
