// Package webpage is the floor of Tollgate's server-rendered pages (the
// hosted checkout, the partner portal): the Content-Security-Policy with a
// per-response nonce, the security headers every page carries, cookies,
// random secrets and the signed CSRF token of a form. The pages themselves
// (templates, words, routes) stay with their product.
package webpage

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
)

// Policy says what a page's Content-Security-Policy allows beyond the
// page's own origin and its nonce.
type Policy struct {
	Stripe      bool     // Stripe.js and its frames (the Stripe pay page only)
	FormTargets []string // origins a form may post or be redirected to
	ConnectSelf bool     // the page's script calls its own origin (fetch)
}

// CSP is the Content-Security-Policy of a page: nothing but what the page
// itself needs, inline style and script only with this response's nonce.
func CSP(nonce string, p Policy) string {
	script := "'nonce-" + nonce + "'"
	connect := "'self'"
	frame := "'none'"
	img := "'self' data:"
	if p.Stripe {
		img += " https://*.stripe.com"
		script += " https://js.stripe.com"
		connect += " https://api.stripe.com"
		frame = "https://js.stripe.com https://hooks.stripe.com"
	}
	form := "'self'"
	for _, o := range p.FormTargets {
		form += " " + o
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + script,
		"style-src 'nonce-" + nonce + "'",
		"img-src " + img,
		"connect-src " + connect,
		"frame-src " + frame,
		"form-action " + form,
		"base-uri 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

// NewNonce is a fresh CSP nonce: 128 random bits.
func NewNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawStdEncoding.EncodeToString(b)
}

// Headers sets the headers of an HTML page whose CSP nonce is nonce.
// Pages carry signed capabilities (pay links, order links, sign-in
// tokens): never cached, never framed, never leaked in a Referer.
func Headers(w http.ResponseWriter, nonce string, p Policy) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", CSP(nonce, p))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

// SecretLen is the length of NewSecret's answers.
const SecretLen = 22

// NewSecret is 128 random bits in base64url (SecretLen characters): a
// browser's CSRF nonce, a cookie cart's secret, a binding nonce.
func NewSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SetCookie sets an HttpOnly, SameSite=Lax cookie, Secure whenever the
// request came over HTTPS (httpx.Secure; plain HTTP only on a local run).
// maxAge 0 makes a browser-session cookie; a negative one deletes it.
func SetCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: HttpOnly, SameSite=Lax, and Secure whenever the request came over HTTPS
		Name: name, Value: value, Path: path, MaxAge: cookieAge(maxAge),
		HttpOnly: true, Secure: httpx.Secure(r), SameSite: http.SameSiteLaxMode,
	})
}

func cookieAge(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int(d.Seconds())
}

// ErrCSRF is a posted form whose token does not match its browser.
var ErrCSRF = errors.New("webpage: CSRF token missing or invalid")

// CSRF makes and checks form tokens: the token is a signature (purpose
// Purpose) of a scope (a store, a member) and a random nonce kept in the
// browser's cookie Cookie. A page on another site can neither read the
// cookie nor make the signature, and SameSite=Lax keeps the cookie off its
// posts.
type CSRF struct {
	Signer  signing.Signer
	Cookie  string
	Purpose string
}

// Token returns the form token of this browser for scope, setting the
// browser's nonce cookie when it has none.
func (c CSRF) Token(w http.ResponseWriter, r *http.Request, scope string) (string, error) {
	nonce := ""
	if ck, err := r.Cookie(c.Cookie); err == nil && len(ck.Value) == SecretLen {
		nonce = ck.Value
	}
	if nonce == "" {
		nonce = NewSecret()
		SetCookie(w, r, c.Cookie, nonce, "/", 0)
	}
	return c.Signer.Sign(r.Context(), c.Purpose, []byte(scope+"\x00"+nonce))
}

// Check verifies a posted form's token (field "csrf", from r.PostForm)
// against the browser's cookie; ErrCSRF when it does not match.
func (c CSRF) Check(r *http.Request, scope string) error {
	ck, err := r.Cookie(c.Cookie)
	if err != nil || ck.Value == "" {
		return ErrCSRF
	}
	ok, err := c.Signer.Verify(r.Context(), c.Purpose, []byte(scope+"\x00"+ck.Value), r.PostForm.Get("csrf"))
	if err != nil {
		return err
	}
	if !ok {
		return ErrCSRF
	}
	return nil
}
