// Package apikey makes and recognises the API keys merchants and stores
// are given: random keys with a readable prefix, of which only a digest is
// ever stored. A key is looked up by its digest and compared in constant
// time; the key itself is shown once, when it is made, and never logged.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// secretBytes is the randomness of a key: 256 bits.
const secretBytes = 32

// Digest is the SHA-256 of a key, in hex: what is stored, and the lookup
// key. A key has 256 random bits, so a fast hash is enough (there is
// nothing to guess); a salt would prevent the lookup by digest.
type Digest string

// New returns a new key: prefix followed by 256 random bits in base64url
// (43 characters), e.g. "sk_test_" + ....
func New(prefix string) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("apikey: random bytes: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Of returns the digest of key.
func Of(key string) Digest {
	sum := sha256.Sum256([]byte(key))
	return Digest(hex.EncodeToString(sum[:]))
}

// Matches reports, in constant time, whether key has digest d: the check
// after a lookup by digest, so a stored row is never trusted for another key.
func (d Digest) Matches(key string) bool {
	got := Of(key)
	return subtle.ConstantTimeCompare([]byte(got), []byte(d)) == 1
}

// ID is a short, public name of the key with digest d (its first 12 hex
// characters): what logs and the revoke command show. It reveals nothing
// usable about the key.
func (d Digest) ID() string {
	if len(d) < 12 {
		return string(d)
	}
	return string(d[:12])
}

// Valid reports whether key has prefix and the length and alphabet New
// gives, so a malformed key is refused before any lookup.
func Valid(key, prefix string) bool {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(secretBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}
