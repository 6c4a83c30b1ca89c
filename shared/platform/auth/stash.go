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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
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
	// EnvLegacySignaturesForLookups: "true" or "false"; default false. A
	// lookup's legacy signature is the HMAC of "", one constant that would
	// open every lookup forever, so it needs its own explicit opt-in.
	EnvLegacySignaturesForLookups = "STASH_LEGACY_SIGNATURES_FOR_LOOKUPS"
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
	Keys        Keys          // source of secrets.StashEgressKey
	Window      time.Duration // 0 means DefaultSignatureWindow
	AllowLegacy bool          // accept the deprecated body-only signature
	// AllowLegacyLookups also accepts it on GET lookups (with AllowLegacy);
	// Verify does not read it, stashhttp.HandleQuery does.
	AllowLegacyLookups bool
	ShopID             string           // "" accepts any shop
	Now                func() time.Time // nil means time.Now
}

// StashSignaturesFromEnv builds the configuration from the function's
// settings (d.Getenv): STASH_SIGNATURE_WINDOW (a positive Go
// duration, default 5m), STASH_LEGACY_SIGNATURES (a boolean, default true),
// STASH_LEGACY_SIGNATURES_FOR_LOOKUPS (a boolean, default false) and
// STASH_SHOP_ID (default "": any shop). Unparsable values are an error.
func StashSignaturesFromEnv(d deps.Deps, keys Keys) (StashSignatures, error) {
	s := StashSignatures{Keys: keys, ShopID: d.String(EnvShopID, "")}
	var err error
	if s.Window, err = d.Duration(EnvSignatureWindow, DefaultSignatureWindow); err != nil {
		return StashSignatures{}, err
	}
	if s.AllowLegacy, err = d.Bool(EnvLegacySignatures, true); err != nil {
		return StashSignatures{}, err
	}
	if s.AllowLegacyLookups, err = d.Bool(EnvLegacySignaturesForLookups, false); err != nil {
		return StashSignatures{}, err
	}
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
	v1, ok, err := oneHeader(h, HeaderStashSignature)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignatureMalformed, err)
	}
	if ok {
		return s.verifyV1(ctx, v1, body)
	}
	if !s.AllowLegacy {
		return fmt.Errorf("%w: no %s header (legacy signatures are disabled)", ErrSignatureMissing, HeaderStashSignature)
	}
	legacy, ok, err := oneHeader(h, HeaderStashLegacySignature)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignatureMalformed, err)
	}
	if ok {
		return s.verifyLegacy(ctx, legacy, body)
	}
	return fmt.Errorf("%w: no %s or %s header", ErrSignatureMissing, HeaderStashSignature, HeaderStashLegacySignature)
}

func (s StashSignatures) verifyV1(ctx context.Context, header string, body []byte) error {
	if n := strings.Count(header, ";") + 1; n != 4 {
		return fmt.Errorf("%w: %s has %d ';'-separated parts, want 4", ErrSignatureMalformed, HeaderStashSignature, n)
	}
	version, rest, _ := strings.Cut(header, ";")
	shop, rest, _ := strings.Cut(rest, ";")
	millis, encoded, _ := strings.Cut(rest, ";")
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
	return s.Keys.checkHMAC(ctx, secrets.StashEgressKey, sig, millis, body)
}

func (s StashSignatures) verifyLegacy(ctx context.Context, header string, body []byte) error {
	sig, err := decodeSignature(header)
	if err != nil {
		return fmt.Errorf("%w: %s %w", ErrSignatureMalformed, HeaderStashLegacySignature, err)
	}
	return s.Keys.checkHMAC(ctx, secrets.StashEgressKey, sig, "", body)
}

// checkHMAC reports whether the HMAC-SHA256 of the message, under any form
// of any accepted value of the key name, equals sig. The message is body,
// preceded by "{millis}." when millis is not empty (a v1 signature).
func (k Keys) checkHMAC(ctx context.Context, name secrets.Name, sig [sha256.Size]byte, millis string, body []byte) error {
	ok, err := k.anyValue(ctx, name, func(value string) bool {
		mk := macKeyOf(value)
		set := mk.get()
		defer mk.put(set)
		match := false
		for _, m := range set.macs {
			m.Reset()
			if millis != "" {
				set.prefix = append(append(set.prefix[:0], millis...), '.')
				m.Write(set.prefix)
			}
			m.Write(body)
			set.sum = m.Sum(set.sum[:0])
			if hmac.Equal(set.sum, sig[:]) {
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

// macKey holds, for one key value, HMAC-SHA256 states keyed with each of its
// forms (keyForms), reused across requests: hmac.New derives the padded key
// blocks once, Reset restores them, so a check costs the hashing alone.
type macKey struct {
	forms [][]byte
	pool  sync.Pool // of *macSet
}

// macSet is one set of keyed states (one per form) and scratch buffers; a
// request takes it from the pool for the duration of a check.
type macSet struct {
	macs   []hash.Hash
	prefix []byte
	sum    []byte
}

func (k *macKey) get() *macSet {
	if set, ok := k.pool.Get().(*macSet); ok {
		return set
	}
	set := &macSet{macs: make([]hash.Hash, len(k.forms)), sum: make([]byte, 0, sha256.Size)}
	for i, f := range k.forms {
		set.macs[i] = hmac.New(sha256.New, f)
	}
	return set
}

func (k *macKey) put(set *macSet) { k.pool.Put(set) }

// macKeys caches a macKey per key value. It holds the current and previous
// values of the keys in use; a rotation adds one, and the cache starts over
// past maxMacKeys.
var macKeys struct {
	sync.Mutex
	byValue map[string]*macKey
}

const maxMacKeys = 16

func macKeyOf(value string) *macKey {
	macKeys.Lock()
	defer macKeys.Unlock()
	if k := macKeys.byValue[value]; k != nil {
		return k
	}
	if macKeys.byValue == nil || len(macKeys.byValue) >= maxMacKeys {
		macKeys.byValue = map[string]*macKey{}
	}
	k := &macKey{forms: keyForms(value)}
	macKeys.byValue[value] = k
	return k
}

// keyForms returns the HMAC keys a key string may stand for: Stash's
// documents disagree on whether the key is the string's bytes or its base64
// decoding, so both count, in every base64 variant that decodes it to
// something non-empty, without duplicates.
func keyForms(value string) [][]byte {
	forms := make([][]byte, 0, 5)
	forms = append(forms, []byte(value))
	for _, enc := range strictEncodings {
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
func decodeSignature(encoded string) ([sha256.Size]byte, error) {
	var sig [sha256.Size]byte
	if encoded == "" {
		return sig, errSignatureEmpty
	}
	// Headers of a sane length are decoded on the stack; any encoding that
	// fits src decodes to at most len(dst) bytes.
	var src [96]byte
	var dst [72]byte
	for _, enc := range strictEncodings {
		var out []byte
		var err error
		if len(encoded) <= len(src) {
			var n int
			n, err = enc.Decode(dst[:], src[:copy(src[:], encoded)])
			out = dst[:n]
		} else {
			out, err = enc.DecodeString(encoded)
		}
		if err != nil {
			continue
		}
		if len(out) != sha256.Size {
			return sig, fmt.Errorf("signature is %d bytes, want %d", len(out), sha256.Size)
		}
		copy(sig[:], out)
		return sig, nil
	}
	return sig, errSignatureBase64
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
	v, ok, err := oneHeader(h, HeaderStashWebhookSignature)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignatureMalformed, err)
	}
	if !ok {
		return fmt.Errorf("%w: no %s header", ErrSignatureMissing, HeaderStashWebhookSignature)
	}
	sig, err := decodeSignature(v)
	if err != nil {
		return fmt.Errorf("%w: %s %w", ErrSignatureMalformed, HeaderStashWebhookSignature, err)
	}
	return w.Keys.checkHMAC(ctx, secrets.StashWebhookSecret, sig, "", body)
}

// strictEncodings are the base64 alphabets a signature may come in, strict:
// unused padding bits must be zero, so one signature has one spelling.
var strictEncodings = []*base64.Encoding{
	base64.StdEncoding.Strict(), base64.RawStdEncoding.Strict(),
	base64.URLEncoding.Strict(), base64.RawURLEncoding.Strict(),
}
