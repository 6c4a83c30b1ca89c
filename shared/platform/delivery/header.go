package delivery

import (
	"strings"
	"unicode"
)

// reservedHeaders are the headers a delivery sets itself (lower-cased): a
// signature header cannot replace one.
var reservedHeaders = map[string]bool{"content-type": true, "content-length": true, "host": true, "user-agent": true,
	"transfer-encoding": true, "connection": true, "x-tollgate-event-id": true, "x-tollgate-event-type": true, "x-tollgate-timestamp": true,
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true}

// ValidSignatureHeader reports why h cannot name a webhook signature header
// ("" when it can): an HTTP header token (RFC 9110 tchar) of at most 64
// bytes, not one of the headers a delivery sets itself.
func ValidSignatureHeader(h string) string {
	switch {
	case h == "" || len(h) > 64:
		return "want 1-64 bytes"
	case strings.IndexFunc(h, func(r rune) bool { return !isTchar(r) }) >= 0:
		return "not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)"
	case reservedHeaders[strings.ToLower(h)]:
		return "a header every delivery sets itself"
	}
	return ""
}

func isTchar(r rune) bool {
	return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}
