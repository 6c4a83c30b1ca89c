// Package refusal is how domain packages say no: a request a rule refuses
// (a product that does not exist, a transaction confirmed differently) is an
// *Error whose Reason is a sentinel of the domain package that refused,
// checked with errors.Is, and whose message tells the caller why. Any other
// error means the request could not be served (the store failed) and a retry
// may succeed. Each API's HTTP layer maps reasons to its own error shape in
// one place; domain packages know nothing of HTTP.
package refusal

import "fmt"

// Error is a refused request.
type Error struct {
	Reason  error  // the domain's sentinel
	Message string // why, in the caller's terms
}

func (e *Error) Error() string { return e.Message }

// Unwrap makes errors.Is(err, e.Reason) hold.
func (e *Error) Unwrap() error { return e.Reason }

// New returns a refusal for reason with a formatted message.
func New(reason error, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}
