package httpx

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// ETag is the strong entity tag of a body computed once: the quoted
// base64url of the first 128 bits of its SHA-256.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// NoneMatch reports whether an If-None-Match header value names etag: one
// of its comma-separated tags equals etag, weak (W/) or strong, or is *.
// True means the client's copy is current (answer 304).
func NoneMatch(ifNoneMatch, etag string) bool {
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}
