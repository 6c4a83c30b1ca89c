package tax

import (
	"errors"
	"fmt"
	"math/big"

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
// All in integers: rate is n/10^k, so each is one integer division.
func Compute(subtotalMinor int64, rate Decimal, included bool) (Amounts, error) {
	if subtotalMinor < 0 || subtotalMinor > money.MaxMinor {
		return Amounts{}, ErrTooLarge
	}
	if rate.Rat().Sign() < 0 {
		return Amounts{}, fmt.Errorf("tax: a negative rate %s", rate)
	}
	a := Amounts{SubtotalMinor: subtotalMinor, Included: included}
	r := rate.Rat()
	num, den := new(big.Int).Mul(big.NewInt(subtotalMinor), r.Num()), new(big.Int).Set(r.Denom())
	if included {
		den.Add(den, r.Num()) // sub × (n/d) / (1 + n/d) = sub × n / (d + n)
	}
	a.TaxMinor = halfUp(num, den).Int64()
	a.TotalMinor = subtotalMinor
	if !included {
		a.TotalMinor += a.TaxMinor
	}
	if a.TotalMinor > money.MaxMinor {
		return Amounts{}, ErrTooLarge
	}
	return a, nil
}

// halfUp is num/den (both >= 0, den > 0) rounded half up: floor((2·num + den) / (2·den)).
func halfUp(num, den *big.Int) *big.Int {
	n := new(big.Int).Lsh(num, 1)
	n.Add(n, den)
	return n.Quo(n, new(big.Int).Lsh(den, 1))
}
