// Package signing makes and checks the tamper-evident tokens the checkout
// hands to browsers and merchants: session tokens, signed cart cookies,
// CSRF tokens, order-page links. A signature is HMAC-SHA256 over a purpose
// and a message with the CheckoutSigningKey; a signature made with the
// previous key of a rotation still verifies, so links issued just before a
// rotation keep working.
package signing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// ErrNoKey is returned when the signing key is not configured: nothing can
// be signed or verified.
var ErrNoKey = errors.New("signing: the checkout signing key is not configured")

// Signer signs with the values of one key of a secrets.Source.
type Signer struct {
	Keys secrets.Source
	Name secrets.Name // the key; CheckoutSigningKey unless set
}

// New returns the checkout's signer over src.
func New(src secrets.Source) Signer { return Signer{Keys: src, Name: secrets.CheckoutSigningKey} }

// mac is the HMAC of (purpose, msg) under key: the purpose is bound in so
// that a signature made for one use (a cookie) never verifies for another
// (an order link).
func mac(key, purpose string, msg []byte) []byte {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write(msg)
	return h.Sum(nil)
}

func (s Signer) values(ctx context.Context) ([]string, error) {
	name := s.Name
	if name == "" {
		name = secrets.CheckoutSigningKey
	}
	if s.Keys == nil {
		return nil, ErrNoKey
	}
	v, err := s.Keys.Values(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("signing: read key: %w", err)
	}
	if len(v) == 0 {
		return nil, ErrNoKey
	}
	return v, nil
}

// Sign returns the signature of msg for purpose with the current key:
// 43 characters of unpadded base64url (256 bits).
func (s Signer) Sign(ctx context.Context, purpose string, msg []byte) (string, error) {
	keys, err := s.values(ctx)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(mac(keys[0], purpose, msg)), nil
}

// Verify reports whether sig is a signature of msg for purpose under the
// current or the previous key, comparing in constant time. A malformed
// signature is false, not an error; the error is only a key that cannot be
// read.
func (s Signer) Verify(ctx context.Context, purpose string, msg []byte, sig string) (bool, error) {
	keys, err := s.values(ctx)
	if err != nil {
		return false, err
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return false, nil
	}
	ok := false
	for _, k := range keys {
		// Every key is tried, whatever matched, so timing says nothing.
		if hmac.Equal(got, mac(k, purpose, msg)) {
			ok = true
		}
	}
	if !ok {
		if r, isRefresher := s.Keys.(secrets.Refresher); isRefresher {
			// A signature made with a key this container has not seen yet
			// (a rotation): re-read the secret once and try again.
			if refreshed, err := r.Refresh(ctx); err == nil && refreshed {
				return s.Verify(ctx, purpose, msg, sig)
			}
		}
	}
	return ok, nil
}
