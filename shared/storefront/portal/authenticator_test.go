package portal_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// authenticator is a software passkey authenticator: what a browser and a
// platform authenticator answer to navigator.credentials.create and .get,
// built from the WebAuthn specification (attestation "none", ES256), so
// the portal's ceremonies run end to end in Go. It is not a stand-in for a
// service: WebAuthn's client side is the browser's, and the browser test
// drives a real one (Chrome's virtual authenticator).
type authenticator struct {
	origin string
	key    *ecdsa.PrivateKey
	credID []byte
	handle []byte // the user handle registration gave
	rpID   string
	count  uint32
}

func newAuthenticator(t *testing.T, origin string) *authenticator {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &authenticator{origin: origin, key: key, credID: id}
}

var b64 = base64.RawURLEncoding

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// create answers creation options (protocol.CredentialCreation JSON).
func (a *authenticator) create(t *testing.T, options []byte) []byte {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatalf("creation options %s: %v", options, err)
	}
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		t.Fatalf("user id %q: %v", o.PublicKey.User.ID, err)
	}
	a.handle, a.rpID = handle, o.PublicKey.RP.ID
	clientData := mustJSON(t, map[string]any{"type": "webauthn.create", "challenge": o.PublicKey.Challenge, "origin": a.origin, "crossOrigin": false})
	pub, err := a.key.PublicKey.Bytes() // 0x04, X, Y
	if err != nil {
		t.Fatal(err)
	}
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: pub[1:33], -3: pub[33:65]})
	if err != nil {
		t.Fatal(err)
	}
	auth := a.authData(0x01 | 0x04 | 0x40)                            // user present, verified, attested credential data
	auth = append(auth, make([]byte, 16)...)                          // AAGUID
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.credID))) //nolint:gosec // G115: a test credential id, 32 bytes
	auth = append(auth, a.credID...)
	auth = append(auth, cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		t.Fatal(err)
	}
	return mustJSON(t, map[string]any{"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(clientData), "attestationObject": b64.EncodeToString(att),
			"transports": []string{"internal"}}})
}

// get answers request options (protocol.CredentialAssertion JSON) as a
// discoverable credential: with the user handle.
func (a *authenticator) get(t *testing.T, options []byte) []byte {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatalf("request options %s: %v", options, err)
	}
	clientData := mustJSON(t, map[string]any{"type": "webauthn.get", "challenge": o.PublicKey.Challenge, "origin": a.origin, "crossOrigin": false})
	a.count++
	auth := a.authData(0x01 | 0x04)
	cdHash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return mustJSON(t, map[string]any{"id": b64.EncodeToString(a.credID), "rawId": b64.EncodeToString(a.credID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(clientData), "authenticatorData": b64.EncodeToString(auth),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(a.handle)}})
}

func (a *authenticator) authData(flags byte) []byte {
	rp := sha256.Sum256([]byte(a.rpID))
	out := append(rp[:], flags)
	return binary.BigEndian.AppendUint32(out, a.count)
}
