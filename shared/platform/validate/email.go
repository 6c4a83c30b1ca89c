package validate

import (
	"errors"
	"net/mail"
	"strconv"
)

// MaxEmailLength is the longest email address Tollgate accepts, in bytes
// (RFC 5321's limit on a forward path).
const MaxEmailLength = 254

// ErrEmail is Email's refusal.
var ErrEmail = errors.New("must be an email address such as buyer@example.com (at most " + strconv.Itoa(MaxEmailLength) + " bytes)")

// Email checks a buyer's email address: a bare addr-spec (a@b.example: no
// display name, no angle brackets, nothing net/mail would rewrite) of at
// most MaxEmailLength bytes. The empty string is refused; a caller for
// whom the address is optional checks only a non-empty one.
func Email(s string) error {
	if len(s) > MaxEmailLength {
		return ErrEmail
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return ErrEmail
	}
	return nil
}
