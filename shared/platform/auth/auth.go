// Package auth checks the credentials Tollgate's callers present: the static
// API key of Stash's purchase authorization call and the game server's Bearer
// key (both compared in constant time against every accepted value of the
// key, so a rotation never refuses the old or the new one), and the HMAC
// signatures of Stash's signed calls (stash.go).
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// ErrUnauthorized means the request carried no credential or a wrong one.
var ErrUnauthorized = errors.New("unauthorized")

// ErrHeaderRepeated: a credential header given more than once. Which value
// counts is ambiguous (proxies and runtimes differ on first or last, API
// Gateway joins them), so none is read. It matches ErrUnauthorized.
var ErrHeaderRepeated error = &reasonError{"credential header repeated"}

// oneHeader reads a credential header for every guard (API key, Bearer,
// Stash signatures) with httpx.OneHeader: a repeated header is an error
// matching ErrHeaderRepeated (and so ErrUnauthorized).
func oneHeader(h http.Header, name string) (string, bool, error) {
	v, ok, err := httpx.OneHeader(h, name)
	if err != nil {
		return "", false, fmt.Errorf("%w: %w", ErrHeaderRepeated, err)
	}
	return v, ok, nil
}

// Keys checks presented credentials against a named key of a secrets Source.
type Keys struct {
	Source secrets.Source
}

// Check returns nil when presented equals an accepted value of name,
// ErrUnauthorized when it does not, and a wrapped error when the key could
// not be read (the caller should answer 5xx: a retry may succeed).
func (k Keys) Check(ctx context.Context, name secrets.Name, presented string) error {
	if presented == "" {
		return ErrUnauthorized
	}
	p := sha256.Sum256([]byte(presented))
	ok, err := k.anyValue(ctx, name, func(value string) bool { return digestMatches(p, value) })
	if err != nil {
		return err
	}
	if !ok {
		return ErrUnauthorized
	}
	return nil
}

// anyValue reports whether match accepts one of the accepted values of name.
// It is the one place that decides which values count: every non-empty value
// the Source returns (the current one and, during a rotation, the previous
// one) is offered to match, without stopping at the first accepted one, so the
// time taken depends only on how many values there are. When none is
// accepted and the Source caches (secrets.Refresher), the secret may have
// rotated since it was read: it is refreshed once and, if the refresh re-read
// it, the new values are offered too. A Source or Refresh failure is returned
// wrapped with the key's name (never its value); it is not ErrUnauthorized.
func (k Keys) anyValue(ctx context.Context, name secrets.Name, match func(value string) bool) (bool, error) {
	ok, err := k.offer(ctx, name, match)
	if err != nil || ok {
		return ok, err
	}
	r, isRefresher := k.Source.(secrets.Refresher)
	if !isRefresher {
		return false, nil
	}
	refreshed, err := r.Refresh(ctx)
	if err != nil {
		return false, fmt.Errorf("refresh %s: %w", name, err)
	}
	if !refreshed {
		return false, nil
	}
	return k.offer(ctx, name, match)
}

// offer reads the values of name once and offers each non-empty one to match.
func (k Keys) offer(ctx context.Context, name secrets.Name, match func(value string) bool) (bool, error) {
	values, err := k.Source.Values(ctx, name)
	if err != nil {
		return false, fmt.Errorf("read key %s: %w", name, err)
	}
	ok := false
	for _, v := range values {
		if v == "" {
			continue
		}
		if match(v) {
			ok = true
		}
	}
	return ok, nil
}

// MatchAny reports in constant time (for given counts and lengths of accepted
// values) whether presented equals one of accepted. Both sides are hashed
// first so the comparison leaks neither content nor length.
func MatchAny(presented string, accepted []string) bool {
	p := sha256.Sum256([]byte(presented))
	match := false
	for _, a := range accepted {
		match = digestMatches(p, a) || match // no early exit: every value is compared
	}
	return match
}

// digestMatches compares, in constant time, the digest of a presented key
// with an accepted value (an empty value never matches).
func digestMatches(presented [sha256.Size]byte, accepted string) bool {
	if accepted == "" {
		return false
	}
	h := sha256.Sum256([]byte(accepted))
	return subtle.ConstantTimeCompare(presented[:], h[:]) == 1
}

// BearerToken returns the token of an "Authorization: Bearer <token>" header,
// or "" when there is none or the header is given more than once.
func BearerToken(r *http.Request) string {
	token, _ := bearerToken(r)
	return token
}

// bearerToken is BearerToken with ErrHeaderRepeated for a repeated header.
func bearerToken(r *http.Request) (string, error) {
	h, _, err := oneHeader(r.Header, "Authorization")
	if err != nil {
		return "", err
	}
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", nil
	}
	return strings.TrimSpace(h[len(prefix):]), nil
}
