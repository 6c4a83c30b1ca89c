package tax

import (
	"bytes"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Decimal is a rate as an exact decimal fraction, kept as the data writes
// it ("0.175" is 17.5%): never a binary float, so 17.5% of 180 is exactly
// 31.5. In JSON it is a number, written with the same digits it was read
// with.
type Decimal string

// ParseDecimal reads a rate: an optional minus, digits, an optional
// fraction, no exponent, from -1 to 1 (a subdivision's rate may be
// negative: it is added to its country's, as the Canary Islands' -0.14
// makes Spain's 21% their 7% IGIC).
func ParseDecimal(s string) (Decimal, error) {
	whole, frac, hasPoint := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || !digits(whole) || !digits(frac) || (hasPoint && frac == "") || len(frac) > maxScale || len(whole) > 1 {
		return "", fmt.Errorf("tax: rate %q is not a plain decimal such as 0.175", s)
	}
	d := Decimal(s)
	if new(big.Rat).Abs(d.Rat()).Cmp(big.NewRat(1, 1)) > 0 {
		return "", fmt.Errorf("tax: rate %q is beyond 1 (100%%)", s)
	}
	return d, nil
}

// maxScale is the most fraction digits of a rate: 10^maxScale and twice
// it fit a uint64 (Compute's arithmetic).
const maxScale = 15

// fraction is the rate as num / den, den = 10^(fraction digits).
func (d Decimal) fraction() (num int64, den uint64, err error) {
	s := string(d)
	if s == "" {
		return 0, 1, nil
	}
	neg := strings.HasPrefix(s, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if len(frac) > maxScale || len(whole) > 1 {
		return 0, 0, fmt.Errorf("tax: rate %q has too many digits", s)
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("tax: rate %q: %w", s, err)
	}
	den = 1
	for range len(frac) {
		den *= 10
	}
	if neg {
		n = -n
	}
	return n, den, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Rat is the rate as an exact fraction ("" is 0).
func (d Decimal) Rat() *big.Rat {
	r := new(big.Rat)
	if d == "" {
		return r
	}
	if _, ok := r.SetString(string(d)); !ok {
		panic(fmt.Sprintf("tax: Decimal %q is not a decimal", string(d))) // ParseDecimal and UnmarshalJSON make every Decimal
	}
	return r
}

// IsZero reports a zero rate.
func (d Decimal) IsZero() bool { return d.Rat().Sign() == 0 }

// scale is the number of fraction digits.
func (d Decimal) scale() int {
	_, frac, _ := strings.Cut(string(d), ".")
	return len(frac)
}

// Add is d + e, exactly, with the larger of their fraction digits.
func (d Decimal) Add(e Decimal) Decimal {
	s := max(d.scale(), e.scale())
	return Decimal(new(big.Rat).Add(d.Rat(), e.Rat()).FloatString(s))
}

// Percent is the rate in percent without trailing zeros: "17.5", "20",
// "14.975".
func (d Decimal) Percent() string {
	p := new(big.Rat).Mul(d.Rat(), big.NewRat(100, 1)).FloatString(max(d.scale()-2, 0))
	if strings.Contains(p, ".") {
		p = strings.TrimRight(strings.TrimRight(p, "0"), ".")
	}
	return p
}

// MarshalJSON writes the rate as a JSON number with its own digits.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if d == "" {
		return []byte("0"), nil
	}
	return []byte(d), nil
}

// UnmarshalJSON reads a JSON number (its literal digits, not a float).
func (d *Decimal) UnmarshalJSON(b []byte) error {
	v, err := ParseDecimal(string(bytes.TrimSpace(b)))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
