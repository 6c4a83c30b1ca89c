// Package money holds the one rule of amounts: integers of a currency's
// minor unit, whose size is the currency's ISO 4217 exponent (JPY 0, GBP 2,
// KWD 3). It formats and parses amounts without binary fractions.
package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
)

// MaxMinor is the largest amount Tollgate takes (2^53-1 minor units: still
// exact in a JSON number read as a double by a client).
const MaxMinor = 1<<53 - 1

// exponents are the ISO 4217 minor units that are not 2 (the List One
// "minor unit" column). Codes with "N.A." (gold, SDR, test and fund codes)
// are in noMinorUnit: they are not money a buyer pays with.
var exponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// recent are codes ISO 4217 assigned after the CLDR data of x/text
// (all with 2 decimals): Sierra Leone's SLE (2022), Venezuela's VED (2021),
// Zimbabwe's ZWG (2024), the Caribbean guilder XCG (2025).
var recent = map[string]bool{"SLE": true, "VED": true, "ZWG": true, "XCG": true}

var noMinorUnit = map[string]bool{
	"XAG": true, "XAU": true, "XBA": true, "XBB": true, "XBC": true, "XBD": true, "XDR": true,
	"XPD": true, "XPT": true, "XSU": true, "XTS": true, "XUA": true, "XXX": true,
}

// ErrCurrency: a code that is not a currency amounts can be kept in.
var ErrCurrency = errors.New("money: not an ISO 4217 currency with a minor unit")

// Exponent is the ISO 4217 minor-unit exponent of code (upper case): 0 for
// JPY, 2 for GBP, 3 for KWD. A code ISO 4217 does not assign, or one without
// a minor unit (XAU), is ErrCurrency.
func Exponent(code string) (int, error) {
	if len(code) != 3 || noMinorUnit[code] || strings.ToUpper(code) != code {
		return 0, fmt.Errorf("%w: %q", ErrCurrency, code)
	}
	if _, err := currency.ParseISO(code); err != nil && !recent[code] {
		return 0, fmt.Errorf("%w: %q", ErrCurrency, code)
	}
	if e, ok := exponents[code]; ok {
		return e, nil
	}
	return 2, nil
}

// Known reports whether code is a currency with a minor unit (Exponent).
func Known(code string) bool { _, err := Exponent(code); return err == nil }

// Parts splits minor units of code into the sign, the whole units'
// digits and the fraction's digits (exactly the exponent's count): 2999 GBP
// is ("", "29", "99"), 500 JPY ("", "500", ""), 1250 KWD ("", "1", "250").
func Parts(minor int64, code string) (sign, whole, frac string, err error) {
	exp, err := Exponent(code)
	if err != nil {
		return "", "", "", err
	}
	digits := strconv.FormatInt(minor, 10)
	if minor < 0 {
		sign, digits = "-", digits[1:]
	}
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	return sign, digits[:len(digits)-exp], digits[len(digits)-exp:], nil
}

// Format is minor units of code as a plain decimal in major units, with
// exactly the exponent's fraction digits: "29.99", "500", "1.250".
func Format(minor int64, code string) (string, error) {
	sign, whole, frac, err := Parts(minor, code)
	if err != nil {
		return "", err
	}
	if frac == "" {
		return sign + whole, nil
	}
	return sign + whole + "." + frac, nil
}

// Parse reads a plain decimal amount in major units of code ("29.99",
// "500", "29.9") into minor units. More fraction digits than the
// currency's exponent, a sign, an exponent or a value above MaxMinor is an
// error: an amount is never rounded on the way in.
func Parse(s, code string) (int64, error) {
	exp, err := Exponent(code)
	if err != nil {
		return 0, err
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	switch {
	case whole == "" || !allDigits(whole) || !allDigits(frac) || (hasPoint && frac == ""):
		return 0, fmt.Errorf("money: %q is not a plain decimal amount such as 29.99", truncate(s))
	case len(frac) > exp:
		return 0, fmt.Errorf("money: %s has %d decimal places; %q has more", code, exp, truncate(s))
	}
	digits := strings.TrimLeft(whole+frac+strings.Repeat("0", exp-len(frac)), "0")
	if digits == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > MaxMinor {
		return 0, fmt.Errorf("money: %q is above the largest amount", truncate(s))
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
