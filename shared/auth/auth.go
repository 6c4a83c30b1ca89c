// Package auth checks the credentials Tollgate's callers present: the static
// API key of Stash's purchase authorization call and the game server's Bearer
// key (both compared in constant time against every accepted value of the
// key, so a rotation never refuses the old or the new one).
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/secrets"
)

// ErrUnauthorized means the request carried no credential or a wrong one.
var ErrUnauthorized = errors.New("unauthorized")

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
	ok, err := k.matches(ctx, name, presented)
	if err != nil || ok {
		return err
	}
	// Not recognised: the secret may have rotated since it was cached.
	if r, isRefresher := k.Source.(secrets.Refresher); isRefresher {
		refreshed, err := r.Refresh(ctx)
		if err != nil {
			return fmt.Errorf("refresh %s: %w", name, err)
		}
		if refreshed {
			if ok, err = k.matches(ctx, name, presented); err != nil || ok {
				return err
			}
		}
	}
	return ErrUnauthorized
}

func (k Keys) matches(ctx context.Context, name secrets.Name, presented string) (bool, error) {
	values, err := k.Source.Values(ctx, name)
	if err != nil {
		return false, fmt.Errorf("read key %s: %w", name, err)
	}
	return MatchAny(presented, values), nil
}

// MatchAny reports in constant time (for given counts and lengths of accepted
// values) whether presented equals one of accepted. Both sides are hashed
// first so the comparison leaks neither content nor length.
func MatchAny(presented string, accepted []string) bool {
	p := sha256.Sum256([]byte(presented))
	match := 0
	for _, a := range accepted {
		if a == "" {
			continue
		}
		h := sha256.Sum256([]byte(a))
		match |= subtle.ConstantTimeCompare(p[:], h[:])
	}
	return match == 1
}

// BearerToken returns the token of an "Authorization: Bearer <token>" header,
// or "" when there is none.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return ""
	}
	return strings.TrimSpace(h[len(prefix):])
}
