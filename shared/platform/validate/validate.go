// Package validate is the one home of the input rules that several decoders
// apply: identifiers, quantities, currency codes, language tags and JSON
// integers. Request decoders (shared/platform/decode, stashapi, the endpoints'
// decoders) and domain code (the catalog file, the store) all call it, so a
// rule changes in one place.
//
// A rule answers a plain error saying what is wrong, worded to follow a
// field name ("must not be empty"); the caller adds the field and turns it
// into its own kind of refusal (a 400 response, a catalog file problem). The
// errors are sentinels (or wrap one), so callers can tell them apart with
// errors.Is and a valid value costs no allocation. This package imports no
// HTTP code.
package validate

import (
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// MaxIDLength is the longest identifier (transaction, player, product id,
// guid) Tollgate accepts, in characters.
const MaxIDLength = 128

// Why ID refuses an identifier.
var (
	ErrEmpty        = errors.New("must not be empty")
	ErrTooLong      = errors.New("is longer than " + strconv.Itoa(MaxIDLength) + " characters")
	ErrNotUTF8      = errors.New("is not valid UTF-8")
	ErrNotPrintable = errors.New("holds a control or non-printable character")
	ErrReplacement  = errors.New("holds a replacement character (U+FFFD): a lone surrogate escape or a character lost in encoding")
)

// ID checks an identifier: 1 to MaxIDLength characters of valid, printable
// UTF-8 (no control, format or other non-printable character; a plain space
// is allowed), and no U+FFFD. Ids end up in DynamoDB keys, logs and
// answers, where an invisible or malformed character would make two ids look
// alike. U+FFFD is refused because JSON decoding turns every escaped lone
// surrogate ("\ud800", "\udfff") into it, so two different ids sent would
// be one id stored.
func ID(s string) error {
	switch {
	case s == "":
		return ErrEmpty
	// Counted before the UTF-8 check, so an overlong id is reported as such
	// whatever it holds (an invalid byte counts as one character).
	case utf8.RuneCountInString(s) > MaxIDLength:
		return ErrTooLong
	case !utf8.ValidString(s):
		return ErrNotUTF8
	}
	for _, r := range s {
		// The string is valid UTF-8 here, so RuneError is a literal U+FFFD.
		if r == utf8.RuneError {
			return ErrReplacement
		}
		if !unicode.IsPrint(r) {
			return ErrNotPrintable
		}
	}
	return nil
}

// MaxQuantity is the most units of one product a purchase line (and, in
// the authorization call, a product once its lines are merged) may hold.
const MaxQuantity = 10000

// ErrQuantity is wrapped by Quantity's refusals.
var ErrQuantity = fmt.Errorf("must be from 1 to %d", MaxQuantity)

// Quantity checks a number of units: 1 to MaxQuantity. Every purchase call
// (Stash's register, confirm, cancel and webhooks, and the authorization
// call) accepts the same range, and the catalog never offers more than one
// line may buy (maxPurchasable), so what is offered can always be bought.
func Quantity(q int64) error {
	if q < 1 || q > MaxQuantity {
		return fmt.Errorf("%w, got %d", ErrQuantity, q)
	}
	return nil
}

// ErrCurrency is Currency's and ParseCurrency's refusal.
var ErrCurrency = errors.New("must be a 3-letter ISO 4217 code")

// Currency checks an ISO 4217 currency code in the form Tollgate stores and
// compares: three upper-case ASCII letters ("USD"). Whether the code is
// assigned is not checked: prices name the currencies that exist for a game.
func Currency(s string) error {
	if len(s) != 3 || !isUpper(s[0]) || !isUpper(s[1]) || !isUpper(s[2]) {
		return ErrCurrency
	}
	return nil
}

// ParseCurrency accepts an ISO 4217 code in any letter case ("usd", as a
// caller may send it) and returns it as Currency wants it, upper case.
func ParseCurrency(s string) (string, error) {
	if Currency(s) == nil {
		return s, nil // already upper case: the common case, no allocation
	}
	if len(s) != 3 {
		return "", ErrCurrency
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	up := string(b)
	if Currency(up) != nil {
		return "", ErrCurrency
	}
	return up, nil
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
