package auth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// Known-answer vectors. The expected headers were computed once outside Go
// (Python's hmac, hashlib and base64, following the schemes as stash.go and
// Stash's API reference describe them) and are hard-coded, so a mistake
// shared by the signer and the verifier (or by a helper of the test's own)
// cannot hide.
const (
	katEgressKey  = "dG9sbGdhdGUta2F0LWtleQ" // unpadded base64 of katEgressDec
	katEgressDec  = "tollgate-kat-key"
	katWebhookKey = "whsec-kat-0001"
	katShop       = "shop_kat_01"
	katMillis     = 1795240800123
	katRegister   = `{"playerId":"player-7","transactionId":"tx-kat-0001","currency":"USD","decimalPlaces":2,"registrations":[{"productId":"gem_pack_small","cents":199,"quantity":2}]}`
	// Non-ASCII on purpose: the MAC is over the UTF-8 bytes as received.
	katWebhook = `{"type":"PURCHASE_SUCCEEDED","purchaseSucceeded":{"orderId":"ord-kat-1","userId":"player-7","items":[{"id":"gem_pack_small","name":"Gemmes étoilées","quantity":2}]}}`
)

type katScheme int

const (
	katV1 katScheme = iota
	katLegacy
	katWebhookSig
)

var katVectors = []struct {
	name   string
	scheme katScheme
	key    string // the HMAC key as the signer uses it
	body   string
	header string // the header's name
	want   string // the header's value
}{
	{
		name: "v1, key as the string's bytes", scheme: katV1, key: katEgressKey, body: katRegister,
		header: "x-stash-hmac-signature",
		want:   "v1;shop_kat_01;1795240800123;P5jcIc7dln+fAaFNuApiwMC7JvnIXtqtpxOs4K0OH/I=",
	},
	{
		name: "v1, key base64-decoded", scheme: katV1, key: katEgressDec, body: katRegister,
		header: "x-stash-hmac-signature",
		want:   "v1;shop_kat_01;1795240800123;34XBttT0ka3atXEUMVSPg2rKIsBctQHmtMMt+6KY28s=",
	},
	{
		name: "v1, GET (empty body)", scheme: katV1, key: katEgressKey, body: "",
		header: "x-stash-hmac-signature",
		want:   "v1;shop_kat_01;1795240800123;rJQUuZNa5pBaAGazVFjnxbaZZ+I6uVGZbAOmjqcC3V4=",
	},
	{
		name: "legacy", scheme: katLegacy, key: katEgressKey, body: katRegister,
		header: "stash-hmac-signature",
		want:   "gtZYHFphSOUFSkidyPzWbkcP7pszG0oZ0C2UTkAZRQ4=",
	},
	{
		name: "legacy, empty body", scheme: katLegacy, key: katEgressKey, body: "",
		header: "stash-hmac-signature",
		want:   "TcUDy4UOKe45HcJpTxS7Xs6TzAI0oCCud1/BwkzcVzk=",
	},
	{
		name: "webhook", scheme: katWebhookSig, key: katWebhookKey, body: katWebhook,
		header: "Stash-Hmac-Signature",
		want:   "T2K61YMCcAqbXvRqkf2ylMztrnjQs0mbH8+KOxQgTto=",
	},
}

func TestKnownAnswerSign(t *testing.T) {
	for _, v := range katVectors {
		t.Run(v.name, func(t *testing.T) {
			var got, name string
			switch v.scheme {
			case katV1:
				got, name = auth.SignStashV1([]byte(v.key), katShop, time.UnixMilli(katMillis), []byte(v.body)), auth.HeaderStashSignature
			case katLegacy:
				got, name = auth.SignStashLegacy([]byte(v.key), []byte(v.body)), auth.HeaderStashLegacySignature
			case katWebhookSig:
				// Webhooks use the legacy scheme's MAC under their own secret.
				got, name = auth.SignStashLegacy([]byte(v.key), []byte(v.body)), auth.HeaderStashWebhookSignature
			}
			if name != v.header {
				t.Errorf("header name = %q, want %q", name, v.header)
			}
			if got != v.want {
				t.Errorf("signature = %q, want %q", got, v.want)
			}
		})
	}
}

// katVerify verifies value in the vector's header as the production
// configuration would: the key under its secret name, pinned to the
// vector's shop, with the clock at the vector's timestamp.
func katVerify(scheme katScheme, header, value, body string) error {
	h := http.Header{}
	h.Set(header, value)
	ctx := context.Background()
	if scheme == katWebhookSig {
		w := auth.StashWebhooks{Keys: auth.Keys{Source: secrets.Static{secrets.StashWebhookSecret: katWebhookKey}}}
		return w.Verify(ctx, h, []byte(body))
	}
	s := auth.StashSignatures{
		Keys:        auth.Keys{Source: secrets.Static{secrets.StashEgressKey: katEgressKey}},
		AllowLegacy: true,
		ShopID:      katShop,
		Now:         func() time.Time { return time.UnixMilli(katMillis) },
	}
	return s.Verify(ctx, h, []byte(body))
}

func TestKnownAnswerVerify(t *testing.T) {
	for _, v := range katVectors {
		t.Run(v.name, func(t *testing.T) {
			if err := katVerify(v.scheme, v.header, v.want, v.body); err != nil {
				t.Fatalf("Verify(%q) = %v, want nil", v.want, err)
			}
			for _, m := range oneCharChanges(v.want) {
				err := katVerify(v.scheme, v.header, m, v.body)
				if !errors.Is(err, auth.ErrUnauthorized) {
					t.Errorf("Verify(%q), one character off %q: %v, want ErrUnauthorized", m, v.want, err)
				}
			}
		})
	}
}

// oneCharChanges returns value changed at each position in turn. In the
// signature (after the last ';') a base64 character gets the top bit of its
// 6-bit value flipped, which always changes the decoded bytes: a change of
// the low bits of the last character can land in the bits that padding
// leaves unused. Before it, a digit becomes the next digit (another
// timestamp or shop), a letter changes case, and a separator becomes
// another character.
func oneCharChanges(value string) []string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	sigStart := strings.LastIndexByte(value, ';') + 1
	out := make([]string, 0, len(value))
	for i := range len(value) {
		c := value[i]
		var r byte
		switch {
		case i >= sigStart && strings.IndexByte(alphabet, c) >= 0:
			r = alphabet[strings.IndexByte(alphabet, c)^32]
		case i >= sigStart: // padding
			r = 'A'
		case c >= '0' && c <= '9':
			r = '0' + (c-'0'+1)%10
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			r = c ^ 0x20
		case c == ';':
			r = ','
		default:
			r = '-'
		}
		out = append(out, value[:i]+string(r)+value[i+1:])
	}
	return out
}

// TestSignatureHasOneSpelling: with strict base64, a signature whose last
// character differs only in the bits padding leaves unused (the same MAC
// bytes, spelled otherwise) is refused, so one signature has one accepted
// spelling.
func TestSignatureHasOneSpelling(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for _, v := range katVectors {
		t.Run(v.name, func(t *testing.T) {
			last := strings.LastIndexFunc(v.want, func(r rune) bool { return r != '=' })
			for _, c := range alphabet {
				if byte(c) == v.want[last] { //nolint:gosec // G115: alphabet is base64's, ASCII
					continue
				}
				m := v.want[:last] + string(c) + v.want[last+1:]
				if err := katVerify(v.scheme, v.header, m, v.body); !errors.Is(err, auth.ErrUnauthorized) {
					t.Errorf("Verify(%q), last character %q instead of %q: %v, want ErrUnauthorized", m, c, v.want[last], err)
				}
			}
		})
	}
}
