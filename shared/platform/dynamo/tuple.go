package dynamo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
)

// Tuple is the one encoding of a composite key or fingerprint: each part
// length-prefixed ("<bytes>:<part>"), so no part can hold a separator that
// shifts the boundaries and two different tuples never encode alike
// (SplitTuple inverts it). Keys of several parts (a refund of an order, the
// items of a purchase) and the input of every fingerprint go through it;
// a fixed prefix followed by one id needs no encoding.
func Tuple(parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 4
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
	}
	return b.String()
}

// FingerprintSum is the one fingerprint of Tollgate: the SHA-256 of parts
// as one Tuple. Stored fingerprints and the ids derived from it must match
// across releases, so its output never changes (TestFingerprint).
func FingerprintSum(parts ...string) [sha256.Size]byte {
	return sha256.Sum256([]byte(Tuple(parts...)))
}

// Fingerprint is FingerprintSum in lower-case hex (64 characters).
func Fingerprint(parts ...string) string {
	sum := FingerprintSum(parts...)
	return hex.EncodeToString(sum[:])
}

// errNotTuple is SplitTuple's refusal of a string Tuple did not write.
var errNotTuple = errors.New("not a tuple encoding")

// SplitTuple returns the parts Tuple encoded in s.
func SplitTuple(s string) ([]string, error) {
	parts := []string{}
	for s != "" {
		colon := strings.IndexByte(s, ':')
		if colon < 1 {
			return nil, errNotTuple
		}
		if strings.Trim(s[:colon], "0123456789") != "" || (s[0] == '0' && colon > 1) {
			return nil, errNotTuple // only Tuple's own spelling: plain digits, no sign, no leading zero
		}
		n, err := strconv.Atoi(s[:colon])
		if err != nil || n > len(s)-colon-1 {
			return nil, errNotTuple
		}
		parts = append(parts, s[colon+1:colon+1+n])
		s = s[colon+1+n:]
	}
	return parts, nil
}
