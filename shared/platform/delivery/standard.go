package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers (https://www.standardwebhooks.com) every
// delivery carries beside the X-Tollgate-* ones: the signature covers the
// event id and the timestamp as well as the body, so a receiver that checks
// it (and the timestamp's age) refuses a replayed or re-dated delivery,
// which the body-only X-Tollgate-Signature cannot.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"

	// StandardSecretPrefix starts a secret in the Standard Webhooks form.
	StandardSecretPrefix = "whsec_"
)

// SigningKey is the HMAC key of the Standard Webhooks signature of secret:
// a secret already in the Standard Webhooks form, "whsec_" followed by
// canonical standard base64, is that base64 decoded; any other secret (a
// plain string, as stores' and merchants' secrets are today) is its own
// bytes, the key of X-Tollgate-Signature too. StandardSecret is the form a
// receiver is given.
func SigningKey(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, StandardSecretPrefix); ok && rest != "" {
		if key, err := base64.StdEncoding.DecodeString(rest); err == nil && base64.StdEncoding.EncodeToString(key) == rest {
			return key
		}
	}
	return []byte(secret)
}

// StandardSecret is secret as a Standard Webhooks receiver takes it:
// "whsec_" + base64(SigningKey(secret)). A secret already in that form is
// itself; a plain one maps to one value, always the same.
func StandardSecret(secret string) string {
	return StandardSecretPrefix + base64.StdEncoding.EncodeToString(SigningKey(secret))
}

// StandardSignature is the webhook-signature header's value of one
// delivery: "v1," + base64(HMAC-SHA256(key, id + "." + unix seconds + "."
// + body)) for the key of each secret (SigningKey), space-separated, so
// during a secret roll a receiver holding either secret verifies it.
func StandardSignature(secrets []string, id string, at time.Time, body []byte) string {
	content := make([]byte, 0, len(id)+len(body)+22)
	content = append(content, id...)
	content = append(content, '.')
	content = strconv.AppendInt(content, at.Unix(), 10)
	content = append(content, '.')
	content = append(content, body...)
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		m := hmac.New(sha256.New, SigningKey(s))
		m.Write(content)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}
