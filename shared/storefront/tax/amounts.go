package tax

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/tollgate-dev/tollgate/shared/platform/money"
)

// Amounts are an order's money: what every page, the order record, the
// PSP charge, the events and the receipt show. Subtotal is the sum of the
// lines at the store's prices; Total is what is charged.
type Amounts struct {
	SubtotalMinor, TaxMinor, TotalMinor int64
	// Included: the prices include the tax (Total == Subtotal, Tax is the
	// part of it that is tax); else the tax is added to the subtotal.
	Included bool
}

// ErrTooLarge: the total would be above money.MaxMinor.
var ErrTooLarge = errors.New("tax: the total is above the largest amount")

// Compute is the one computation of an order's tax and total from its
// subtotal (minor units, >= 0) and the buyer's rate. The rule: the tax is
// computed once per order, on the subtotal, and rounded half up to the
// minor unit (an exact .5 goes up):
//
//	excluded: tax = round(subtotal × rate),           total = subtotal + tax
//	included: tax = round(subtotal × rate / (1+rate)), total = subtotal
//
// All in integers: rate is n/10^k, so each is one 128-bit integer
// division (no float, no allocation).
func Compute(subtotalMinor int64, rate Decimal, included bool) (Amounts, error) {
	if subtotalMinor < 0 || subtotalMinor > money.MaxMinor {
		return Amounts{}, ErrTooLarge
	}
	num, den, err := rate.fraction()
	if err != nil || num < 0 {
		return Amounts{}, fmt.Errorf("tax: rate %q cannot be charged", string(rate))
	}
	a := Amounts{SubtotalMinor: subtotalMinor, Included: included}
	if included {
		den += uint64(num) // sub × (n/d) / (1 + n/d) = sub × n / (d + n)
	}
	a.TaxMinor = halfUp(uint64(subtotalMinor), uint64(num), den)
	a.TotalMinor = subtotalMinor
	if !included {
		a.TotalMinor += a.TaxMinor
	}
	if a.TotalMinor > money.MaxMinor {
		return Amounts{}, ErrTooLarge
	}
	return a, nil
}

// halfUp is sub × num / den rounded half up, exactly, in 128 bits:
// floor((2·sub·num + den) / (2·den)). sub < 2^53, num <= den < 2^61: the
// quotient is at most sub, so it fits 64 bits (bits.Div64's condition).
func halfUp(sub, num, den uint64) int64 {
	hi, lo := bits.Mul64(sub, num)
	hi, lo = hi<<1|lo>>63, lo<<1
	var carry uint64
	lo, carry = bits.Add64(lo, den, 0)
	hi += carry
	q, _ := bits.Div64(hi, lo, den<<1)
	return int64(q) //nolint:gosec // G115: q <= sub < 2^53
}
