package validate

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Why Integer and WholeNumber refuse a token.
var (
	ErrNotNumber  = errors.New("is not a number")
	ErrNotInteger = errors.New("is not an integer")
	ErrOutOfRange = errors.New("is out of the int64 range")
)

// Integer reads an integer written as an optional sign and decimal digits:
// a JSON number token without fraction or exponent ("12", "-3"), or the
// contents of the JSON string gRPC-gateway sends an int64 as ("12" in
// "\"12\""; a "+" sign and leading zeros are tolerated there). A number
// with a fraction or exponent is ErrNotInteger even when its value is whole
// ("1e2", "2.0"); anything else (a string token, true, an object) is
// ErrNotNumber; digits beyond int64 are ErrOutOfRange.
func Integer(tok []byte) (int64, error) {
	n, err := strconv.ParseInt(string(tok), 10, 64)
	if err == nil {
		return n, nil
	}
	digits := unsigned(tok)
	switch {
	// ParseInt stops at the first digit past int64, before it would see a
	// fraction: look at the whole token.
	case isDigits(string(digits)):
		return 0, ErrOutOfRange
	case len(digits) > 0 && digits[0] >= '0' && digits[0] <= '9':
		return 0, ErrNotInteger
	}
	return 0, ErrNotNumber
}

// unsigned returns tok without its sign.
func unsigned(tok []byte) []byte {
	if len(tok) > 0 && (tok[0] == '-' || tok[0] == '+') {
		return tok[1:]
	}
	return tok
}

// WholeNumber is Integer that also accepts a number whose value is whole but
// written with a fraction or exponent ("1e3", "2.50e1"), as spreadsheets and
// encoders of float64 values write them (and some DynamoDB implementations
// after arithmetic). It decides on the decimal digits, exactly:
// "1.0000000000000000001" is not whole and "9007199254740993.0" is
// 9007199254740993, where float64 would round both.
//
// With ErrNotInteger for a number that is not whole ("1.5") it also
// returns the number rounded toward zero (1), clamped to the int64 range,
// so that a caller can tell a fraction within its range from one beyond it.
func WholeNumber(tok []byte) (int64, error) {
	n, err := Integer(tok)
	if !errors.Is(err, ErrNotInteger) {
		return n, err
	}
	neg, digits, point, ok := splitNumber(string(tok))
	switch {
	case !ok:
		return 0, ErrNotNumber
	case digits == "":
		return 0, nil // a zero: "0.0", "-0e5"
	case point < len(digits):
		return truncated(neg, digits, point), ErrNotInteger // a non-zero digit after the point
	case point > 19:
		return 0, ErrOutOfRange // more digits than any int64 has
	}
	s := digits + strings.Repeat("0", point-len(digits))
	if neg {
		s = "-" + s
	}
	n, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrOutOfRange
	}
	return n, nil
}

// truncated returns ±0.digits × 10^point (see splitNumber) rounded toward
// zero, clamped to the int64 range.
func truncated(neg bool, digits string, point int) int64 {
	if point <= 0 {
		return 0
	}
	n, err := strconv.ParseInt(digits[:point], 10, 64)
	switch {
	case err != nil:
		return clamp(neg)
	case neg:
		return -n
	}
	return n
}

// clamp returns the int64 bound on the side of a number's sign.
func clamp(neg bool) int64 {
	if neg {
		return math.MinInt64
	}
	return math.MaxInt64
}

// maxExponent bounds the exponent WholeNumber reads: beyond it any non-zero
// number is out of range or not whole, and point arithmetic cannot overflow.
const maxExponent = 1 << 30

// splitNumber parses s as a decimal number: a JSON number, with the sign
// and leading zeros Integer tolerates ([+-]?int(.frac)?([eE][+-]?exp)?). It
// returns its significant digits without leading or trailing zeros ("" for
// a zero) and the position of the decimal point counted from the first of
// them: the value is ±0.digits × 10^point.
func splitNumber(s string) (neg bool, digits string, point int, ok bool) {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	mantissa, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mantissa, exp, hasExp = s[:i], s[i+1:], true
	}
	intPart, frac, hasFrac := strings.Cut(mantissa, ".")
	if !isDigits(intPart) || (hasFrac && !isDigits(frac)) {
		return false, "", 0, false
	}
	e := 0
	if hasExp {
		sign := 1
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			if exp[0] == '-' {
				sign = -1
			}
			exp = exp[1:]
		}
		if !isDigits(exp) {
			return false, "", 0, false
		}
		for _, c := range exp {
			e = min(e*10+int(c-'0'), maxExponent)
		}
		e *= sign
	}
	all := intPart + frac
	digits = strings.TrimLeft(all, "0")
	point = len(intPart) - (len(all) - len(digits)) + e
	return neg, strings.TrimRight(digits, "0"), point, true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
