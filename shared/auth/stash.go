package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/secrets"
)

// Header names of Stash's request signatures.
const (
	// HeaderStashSignature carries the current signature:
	// "v1;{shopId};{unixMillis};{base64 HMAC-SHA256 of "{unixMillis}.{body}"}".
	HeaderStashSignature = "x-stash-hmac-signature"
	// HeaderStashLegacySignature carries the deprecated signature:
	// "{base64 HMAC-SHA256 of the body}".
	HeaderStashLegacySignature = "stash-hmac-signature"
)

// DefaultSignatureWindow is how far a v1 signature's timestamp may lie from
// the current time, in either direction, unless StashSignatures says otherwise.
const DefaultSignatureWindow = 5 * time.Minute

// Settings read by StashSignaturesFromEnv.
const (
	EnvSignatureWindow  = "STASH_SIGNATURE_WINDOW"  // Go duration; default 5m
	EnvLegacySignatures = "STASH_LEGACY_SIGNATURES" // "true" or "false"; default true
	EnvShopID           = "STASH_SHOP_ID"           // default "": any shop
)

// reasonError is the type of the signature sentinels: each is its own error
// (errors.Is tells them apart) and also matches ErrUnauthorized, so callers
// that only know ErrUnauthorized answer 401 for all of them.
type reasonError struct{ reason string }

func (e *reasonError) Error() string { return "unauthorized: " + e.reason }

// Is makes every reason match ErrUnauthorized.
func (e *reasonError) Is(target error) bool { return target == ErrUnauthorized }

// Why a signature was refused. Each matches errors.Is(err, ErrUnauthorized);
// Verify wraps them with details that never include key material or the
// expected signature.
var (
	// ErrSignatureMissing: neither signature header, or only the legacy one
	// while legacy signatures are disabled.
	ErrSignatureMissing error = &reasonError{"stash signature missing"}
	// ErrSignatureMalformed: the header cannot be parsed (part count, version,
	// timestamp, base64, length) or names another shop than the configured one.
	ErrSignatureMalformed error = &reasonError{"stash signature malformed"}
	// ErrSignatureStale: the v1 timestamp lies outside the window.
	ErrSignatureStale error = &reasonError{"stash signature stale"}
	// ErrSignatureInvalid: well-formed, but no accepted key produces it.
	ErrSignatureInvalid error = &reasonError{"stash signature invalid"}
)

// StashSignatures verifies the HMAC signatures Stash puts on its calls.
type StashSignatures struct {
	Keys        Keys             // source of secrets.StashEgressKey
	Window      time.Duration    // 0 means DefaultSignatureWindow
	AllowLegacy bool             // accept the deprecated body-only signature
	ShopID      string           // "" accepts any shop
	Now         func() time.Time // nil means time.Now
}

// StashSignaturesFromEnv builds the configuration from the settings read
// through getenv (nil means os.Getenv): STASH_SIGNATURE_WINDOW (a positive Go
// duration, default 5m), STASH_LEGACY_SIGNATURES (a boolean, default true) and
// STASH_SHOP_ID (default "": any shop). Unparsable values are an error.
func StashSignaturesFromEnv(getenv func(string) string, keys Keys) (StashSignatures, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := StashSignatures{Keys: keys, Window: DefaultSignatureWindow, AllowLegacy: true}
	if v := strings.TrimSpace(getenv(EnvSignatureWindow)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return StashSignatures{}, fmt.Errorf("%s: %w", EnvSignatureWindow, err)
		}
		if d <= 0 {
			return StashSignatures{}, fmt.Errorf("%s: %q is not a positive duration", EnvSignatureWindow, v)
		}
		s.Window = d
	}
	if v := strings.TrimSpace(getenv(EnvLegacySignatures)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return StashSignatures{}, fmt.Errorf("%s: %q is not true or false", EnvLegacySignatures, v)
		}
		s.AllowLegacy = b
	}
	s.ShopID = strings.TrimSpace(getenv(EnvShopID))
	return s, nil
}

// Verify checks the signature headers of a Stash call against body, the
// exact bytes received. When the v1 header is present it alone is checked;
// otherwise the legacy header is, if AllowLegacy. It returns nil, an error
// matching ErrUnauthorized and one of the ErrSignature reasons, or a wrapped
// error that is not ErrUnauthorized when the key could not be read (the
// caller answers 5xx). The header is parsed and its timestamp checked before
// the key is read.
func (s StashSignatures) Verify(ctx context.Context, h http.Header, body []byte) error {
	if v1, ok := headerValue(h, HeaderStashSignature); ok {
		return s.verifyV1(ctx, v1, body)
	}
	if legacy, ok := headerValue(h, HeaderStashLegacySignature); ok && s.AllowLegacy {
		return s.verifyLegacy(ctx, legacy, body)
	}
	if s.AllowLegacy {
		return fmt.Errorf("%w: no %s or %s header", ErrSignatureMissing, HeaderStashSignature, HeaderStashLegacySignature)
	}
	return fmt.Errorf("%w: no %s header (legacy signatures are disabled)", ErrSignatureMissing, HeaderStashSignature)
}

func (s StashSignatures) verifyV1(ctx context.Context, header string, body []byte) error {
	parts := strings.Split(header, ";")
	if len(parts) != 4 {
		return fmt.Errorf("%w: %s has %d ';'-separated parts, want 4", ErrSignatureMalformed, HeaderStashSignature, len(parts))
	}
	version, shop, millis, encoded := parts[0], parts[1], parts[2], parts[3]
	if version != "v1" {
		return fmt.Errorf("%w: %s version is not v1", ErrSignatureMalformed, HeaderStashSignature)
	}
	if s.ShopID != "" && shop != s.ShopID {
		return fmt.Errorf("%w: signed for shop %.64q, not the configured shop", ErrSignatureMalformed, shop)
	}
	ms, ok := parseMillis(millis)
	if !ok {
		return fmt.Errorf("%w: %s timestamp is not a non-negative decimal number of milliseconds", ErrSignatureMalformed, HeaderStashSignature)
	}
	sig, err := decodeSignature(encoded)
	if err != nil {
		return fmt.Errorf("%w: %s %w", ErrSignatureMalformed, HeaderStashSignature, err)
	}
	window := s.Window
	if window <= 0 {
		window = DefaultSignatureWindow
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	// Sub saturates, so absurd timestamps compare as far away, never wrap.
	switch skew := now().Sub(time.UnixMilli(ms)); {
	case skew > window:
		return fmt.Errorf("%w: timestamp is %v old, window is %v", ErrSignatureStale, skew.Truncate(time.Millisecond), window)
	case skew < -window:
		return fmt.Errorf("%w: timestamp is %v in the future, window is %v", ErrSignatureStale, (-skew).Truncate(time.Millisecond), window)
	}
	return s.Keys.checkHMAC(ctx, secrets.StashEgressKey, sig, func(m hash.Hash) {
		m.Write([]byte(millis))
		m.Write([]byte{'.'})
		m.Write(body)
	})
}

func (s StashSignatures) verifyLegacy(ctx context.Context, header string, body []byte) error {
	sig, err := decodeSignature(header)
	if err != nil {
		return fmt.Errorf("%w: %s %w", ErrSignatureMalformed, HeaderStashLegacySignature, err)
	}
	return s.Keys.checkHMAC(ctx, secrets.StashEgressKey, sig, func(m hash.Hash) { m.Write(body) })
}

// checkHMAC reports whether an HMAC-SHA256 of the message write produces,
// under any form of any accepted value of the key name, equals sig.
func (k Keys) checkHMAC(ctx context.Context, name secrets.Name, sig []byte, write func(hash.Hash)) error {
	ok, err := k.anyValue(ctx, name, func(value string) bool {
		match := false
		for _, key := range keyForms(value) {
			m := hmac.New(sha256.New, key)
			write(m)
			if hmac.Equal(m.Sum(nil), sig) {
				match = true // no early exit: every form costs the same
			}
		}
		return match
	})
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no accepted key produces it", ErrSignatureInvalid)
	}
	return nil
}

// keyForms returns the HMAC keys a key string may stand for: Stash's
// documents disagree on whether the key is the string's bytes or its base64
// decoding, so both count, in every base64 variant that decodes it to
// something non-empty, without duplicates.
func keyForms(value string) [][]byte {
	forms := make([][]byte, 0, 5)
	forms = append(forms, []byte(value))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		k, err := enc.DecodeString(value)
		if err != nil || len(k) == 0 {
			continue
		}
		dup := false
		for _, f := range forms {
			if bytes.Equal(f, k) {
				dup = true
				break
			}
		}
		if !dup {
			forms = append(forms, k)
		}
	}
	return forms
}

var (
	errSignatureEmpty  = errors.New("signature is empty")
	errSignatureBase64 = errors.New("signature is not base64")
)

// decodeSignature decodes a header's signature: base64 in the standard or
// URL-safe alphabet, padded or not, of exactly one SHA-256 HMAC.
func decodeSignature(encoded string) ([]byte, error) {
	if encoded == "" {
		return nil, errSignatureEmpty
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		sig, err := enc.DecodeString(encoded)
		if err != nil {
			continue
		}
		if len(sig) != sha256.Size {
			return nil, fmt.Errorf("signature is %d bytes, want %d", len(sig), sha256.Size)
		}
		return sig, nil
	}
	return nil, errSignatureBase64
}

// parseMillis parses a v1 timestamp: 1 to 18 ASCII digits (no sign, no
// spaces), so it always fits an int64.
func parseMillis(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var ms int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		ms = ms*10 + int64(c-'0')
	}
	return ms, true
}

// headerValue returns the value of the header name and whether it is
// present. A header given several times is refused by returning a value that
// cannot parse (the values joined with ",", as API Gateway joins them).
// Names are matched case-insensitively even in a Header built by hand with
// non-canonical keys.
func headerValue(h http.Header, name string) (string, bool) {
	values := h.Values(name)
	if len(values) == 0 {
		for k, v := range h {
			if strings.EqualFold(k, name) {
				values = append(values, v...)
			}
		}
	}
	if len(values) == 0 {
		return "", false
	}
	return strings.Join(values, ","), true
}

// SignStashV1 returns the v1 header value signing body for shopID at the
// given time, with key used as raw bytes.
func SignStashV1(key []byte, shopID string, at time.Time, body []byte) string {
	millis := strconv.FormatInt(at.UnixMilli(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(millis))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1;" + shopID + ";" + millis + ";" + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SignStashLegacy returns the legacy header value signing body, with key
// used as raw bytes.
func SignStashLegacy(key []byte, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// HeaderStashWebhookSignature carries a webhook delivery's signature (the
// same name as the legacy call header; header names are case-insensitive).
const HeaderStashWebhookSignature = "Stash-Hmac-Signature"

// StashWebhooks verifies the signatures of Stash's webhook deliveries: the
// base64 HMAC-SHA256 of the raw body with the webhook secret
// (secrets.StashWebhookSecret, current or previous, raw or base64-decoded).
type StashWebhooks struct {
	Keys Keys
}

// Verify checks a delivery's signature over body, the exact bytes received.
// Errors are as StashSignatures.Verify's.
func (w StashWebhooks) Verify(ctx context.Context, h http.Header, body []byte) error {
	v, ok := headerValue(h, HeaderStashWebhookSignature)
	if !ok {
		return fmt.Errorf("%w: no %s header", ErrSignatureMissing, HeaderStashWebhookSignature)
	}
	sig, err := decodeSignature(v)
	if err != nil {
		return fmt.Errorf("%w: %s %w", ErrSignatureMalformed, HeaderStashWebhookSignature, err)
	}
	return w.Keys.checkHMAC(ctx, secrets.StashWebhookSecret, sig, func(m hash.Hash) { m.Write(body) })
}
