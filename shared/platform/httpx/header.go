package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrHeaderRepeated: a header that must be given once was given more than
// once. Which value counts is ambiguous (proxies and runtimes differ on
// first or last; API Gateway's payload 2.0 joins them with commas), so none
// is read.
var ErrHeaderRepeated = errors.New("header repeated")

// OneHeader is the one reader of a header that must be given at most once:
// its value and whether it is present, or an error matching
// ErrHeaderRepeated naming the header and how often it was given (never a
// value). Names match case-insensitively even in a Header built by hand
// with non-canonical keys.
func OneHeader(h http.Header, name string) (string, bool, error) {
	// Every key is looked at, not only the canonical one: a hand-built
	// Header may hold "x-api-key" and "X-Api-Key" side by side.
	n, value := 0, ""
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, name) {
			if n == 0 {
				value = v[0]
			}
			n += len(v)
		}
	}
	switch n {
	case 0:
		return "", false, nil
	case 1:
		return value, true, nil
	}
	return "", false, &RepeatedHeaderError{Why: fmt.Sprintf("%s is given %d times", name, n)}
}

// RepeatedHeaderError is OneHeader's and OneToken's refusal: it matches
// ErrHeaderRepeated and says which header and how (never its value).
type RepeatedHeaderError struct{ Why string }

func (e *RepeatedHeaderError) Error() string        { return e.Why }
func (e *RepeatedHeaderError) Is(target error) bool { return target == ErrHeaderRepeated }

// OneToken is OneHeader for a header whose value never holds a comma (a
// key, a mode, an idempotency key): a comma is the header given more than
// once and joined, as API Gateway delivers a repeated header.
func OneToken(h http.Header, name string) (string, bool, error) {
	v, ok, err := OneHeader(h, name)
	if err == nil && strings.Contains(v, ",") {
		return "", false, &RepeatedHeaderError{Why: name + " holds a comma: given more than once (API Gateway joins a repeated header with commas)"}
	}
	return v, ok, err
}
