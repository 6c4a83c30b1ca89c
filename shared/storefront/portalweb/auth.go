package portalweb

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/webpage"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

// Auth is the PortalAuthFunction's family: sign-in by email link or
// passkey, sign-out, invitations, the member's stores and their passkeys.
func (p *Pages) Auth() (http.Handler, error) {
	return p.family([]route{
		{Method: "GET", Pattern: "/portal/{$}", Handle: p.storesPage},
		{Method: "GET", Pattern: "/portal/signin/{$}", Public: true, Handle: p.signinPage},
		{Method: "POST", Pattern: "/portal/signin/{$}", Public: true, Handle: p.requestLink},
		{Method: "GET", Pattern: "/portal/signin/link/{$}", Public: true, Handle: p.linkPage},
		{Method: "POST", Pattern: "/portal/signin/link/{$}", Public: true, Handle: p.redeemLink},
		{Method: "POST", Pattern: "/portal/signout/{$}", Public: true, Handle: p.signOut},
		{Method: "GET", Pattern: "/portal/invite/{$}", Public: true, Handle: p.invitePage},
		{Method: "POST", Pattern: "/portal/invite/{$}", Public: true, Handle: p.acceptInvite},
		{Method: "POST", Pattern: "/portal/passkeys/login/{$}", Public: true, JSON: true, Handle: p.passkeyLogin},
		{Method: "GET", Pattern: "/portal/account/{$}", Handle: p.accountPage},
		{Method: "POST", Pattern: "/portal/account/{$}", Handle: p.accountPost},
		{Method: "POST", Pattern: "/portal/passkeys/register/{$}", JSON: true, Handle: p.passkeyRegister},
	}), nil
}

type storesPage struct{ Stores []portal.Membership }

func (p *Pages) storesPage(w http.ResponseWriter, r *http.Request, q *Req) {
	ms, err := p.Accounts.Memberships(r.Context(), q.Member.Email)
	if err != nil {
		p.fail(w, r, q.View("", "", nil), "stores", err)
		return
	}
	p.render(w, r, http.StatusOK, "stores", q.View("Your stores", "", storesPage{Stores: ms}))
}

type signinPage struct {
	Next  string
	Email string
	Error string
}

func nextOf(r *http.Request) string {
	next := r.FormValue("next")
	if !localPath(next) {
		return ""
	}
	return next
}

func (p *Pages) signinPage(w http.ResponseWriter, r *http.Request, q *Req) {
	p.renderPolicy(w, r, http.StatusOK, "signin", view{Title: "Sign in", Page: signinPage{Next: nextOf(r)}}, webpage.Policy{ConnectSelf: true})
}

// parseEmail is the address a member typed, in the portal's one spelling
// (portal.NormalizeEmail).
func parseEmail(s string) (string, error) {
	e, err := portal.NormalizeEmail(s)
	if err != nil {
		return "", badInput("Enter an email address like name@example.com.")
	}
	return e, nil
}

// requestLink mails a sign-in link when the address is a member's; the
// answer is the same page whether or not it is.
func (p *Pages) requestLink(w http.ResponseWriter, r *http.Request, q *Req) {
	email, err := parseEmail(r.PostForm.Get("email"))
	if err != nil {
		p.renderPolicy(w, r, http.StatusBadRequest, "signin", view{Title: "Sign in", Page: signinPage{Next: nextOf(r), Email: r.PostForm.Get("email"), Error: err.Error()}}, webpage.Policy{ConnectSelf: true})
		return
	}
	binding := webpage.NewSecret()
	if err := p.Accounts.RequestLink(r.Context(), email, binding, httpx.ClientIP(r), p.baseURL(r)); err != nil {
		p.fail(w, r, view{Title: "Sign in"}, "signin", err)
		return
	}
	webpage.SetCookie(w, r, bindingCookie, binding, "/portal/", portal.LinkTTL)
	p.render(w, r, http.StatusOK, "signin_sent", view{Title: "Check your email", Page: signinPage{Email: email}})
}

type linkPage struct {
	Token  string
	Next   string
	Action string
	Button string
	Text   string
}

// linkPage asks for a press before the link is used: mail scanners fetch
// links, and a GET must not spend a single-use link.
func (p *Pages) linkPage(w http.ResponseWriter, r *http.Request, q *Req) {
	token := r.URL.Query().Get("token")
	if token == "" || len(token) > 128 {
		p.fail(w, r, view{}, "signin link", portal.ErrLinkInvalid)
		return
	}
	p.render(w, r, http.StatusOK, "confirm", view{Title: "Sign in", Page: linkPage{Token: token, Next: nextOf(r), Action: "/portal/signin/link/", Button: "Sign in", Text: "Press the button to finish signing in."}})
}

func (p *Pages) redeemLink(w http.ResponseWriter, r *http.Request, q *Req) {
	binding := ""
	if c, err := r.Cookie(bindingCookie); err == nil {
		binding = c.Value
	}
	token, _, err := p.Accounts.RedeemLink(r.Context(), r.PostForm.Get("token"), binding, httpx.ClientIP(r))
	if err != nil {
		p.fail(w, r, view{Title: "Sign in"}, "signin link", err)
		return
	}
	webpage.SetCookie(w, r, bindingCookie, "", "/portal/", -1)
	p.signedIn(w, r, token)
}

// signedIn sets the session cookie and sends the member on.
func (p *Pages) signedIn(w http.ResponseWriter, r *http.Request, token string) {
	p.setSession(w, r, token)
	next := nextOf(r)
	if next == "" {
		next = "/portal/"
	}
	seeOther(w, r, next)
}

func (p *Pages) signOut(w http.ResponseWriter, r *http.Request, q *Req) {
	if token := sessionToken(r); token != "" {
		if err := p.Accounts.SignOut(r.Context(), token); err != nil {
			p.fail(w, r, view{}, "signout", err)
			return
		}
	}
	p.clearSession(w, r)
	seeOther(w, r, "/portal/signin/")
}

func (p *Pages) invitePage(w http.ResponseWriter, r *http.Request, q *Req) {
	token := r.URL.Query().Get("token")
	if token == "" || len(token) > 128 {
		p.fail(w, r, view{}, "invitation", portal.ErrInvite)
		return
	}
	p.render(w, r, http.StatusOK, "confirm", view{Title: "Accept the invitation", Page: linkPage{Token: token, Action: "/portal/invite/", Button: "Accept and sign in", Text: "You were invited to a store on the partner portal. Accepting signs you in."}})
}

func (p *Pages) acceptInvite(w http.ResponseWriter, r *http.Request, q *Req) {
	token, _, err := p.Accounts.AcceptInvite(r.Context(), r.PostForm.Get("token"), httpx.ClientIP(r))
	if err != nil {
		p.fail(w, r, view{Title: "Invitation"}, "invitation", err)
		return
	}
	p.signedIn(w, r, token)
}

// Passkeys. The ceremony's server half is a row of the portal's; the
// browser keeps its id in a cookie for the few minutes the ceremony takes.
const ceremonyCookie = "tollgate_portal_ceremony"

// maxCredential bounds a posted WebAuthn answer (attestation objects are a
// few kB).
const maxCredential = 32 << 10

func (p *Pages) rp(r *http.Request) portal.RP {
	origin := p.baseURL(r)
	host := strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://")
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return portal.RP{ID: host, Origin: origin, Name: "Tollgate partner portal"}
}

func (p *Pages) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, status, v)
}

// jsonFail answers a ceremony's fetch with the API's error shape
// ({"error": …}) in the member's words; the same mapping as fail.
func (p *Pages) jsonFail(w http.ResponseWriter, what string, err error) {
	status, msg := http.StatusServiceUnavailable, "The passkey could not be checked. Try again."
	var shown Shower
	var bad *badRequest
	switch {
	case errors.Is(err, portal.ErrPasskey), errors.Is(err, portal.ErrCeremony), errors.Is(err, portal.ErrNoPasskey):
		status, msg = http.StatusUnauthorized, "That passkey is not one of this portal's, or the ceremony expired. Try again or sign in by email."
	case errors.Is(err, portal.ErrNoSession):
		status, msg = http.StatusUnauthorized, "Your session has ended. Sign in again."
	case errors.Is(err, webpage.ErrCSRF):
		status, msg = http.StatusForbidden, "This page has expired. Reload it and try again."
	case errors.Is(err, portal.ErrName):
		status, msg = http.StatusBadRequest, "A passkey's name is 1 to 64 characters."
	case errors.As(err, &bad):
		status, msg = http.StatusBadRequest, bad.msg
	case errors.Is(err, errTooLarge):
		status, msg = http.StatusBadRequest, "The passkey's answer is too large."
	case errors.As(err, &shown):
		status, msg = shown.PortalStatus()
	}
	if status >= 500 {
		p.log.Error("passkey ceremony failed", "step", what, "error", err)
	} else {
		p.log.Info("passkey ceremony refused", "step", what, "error", err)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteError(w, status, msg)
}

// passkeyLogin is the sign-in ceremony: step=begin gives the options,
// step=finish checks the browser's answer and starts the session.
func (p *Pages) passkeyLogin(w http.ResponseWriter, r *http.Request, q *Req) {
	switch r.PostForm.Get("step") {
	case "begin":
		p.passkeyLoginBegin(w, r, q)
	case "finish":
		p.passkeyLoginFinish(w, r, q)
	default:
		p.jsonFail(w, "step", badInput("step must be begin or finish"))
	}
}

// passkeyRegister is the ceremony that adds a passkey, in the same two steps.
func (p *Pages) passkeyRegister(w http.ResponseWriter, r *http.Request, q *Req) {
	switch r.PostForm.Get("step") {
	case "begin":
		p.passkeyRegisterBegin(w, r, q)
	case "finish":
		p.passkeyRegisterFinish(w, r, q)
	default:
		p.jsonFail(w, "step", badInput("step must be begin or finish"))
	}
}

// accountPost renames or removes one of the member's passkeys.
func (p *Pages) accountPost(w http.ResponseWriter, r *http.Request, q *Req) {
	switch r.PostForm.Get("action") {
	case "rename":
		p.passkeyRename(w, r, q)
	case "remove":
		p.passkeyRemove(w, r, q)
	default:
		p.fail(w, r, q.View("", "account", nil), "account", badInput("Choose rename or remove."))
	}
}

func (p *Pages) passkeyLoginBegin(w http.ResponseWriter, r *http.Request, q *Req) {
	opts, id, err := p.Accounts.BeginPasskeyLogin(r.Context(), p.rp(r))
	if err != nil {
		p.jsonFail(w, "login begin", err)
		return
	}
	webpage.SetCookie(w, r, ceremonyCookie, id, "/portal/", portal.CeremonyTTL)
	p.writeRaw(w, opts)
}

func (p *Pages) passkeyLoginFinish(w http.ResponseWriter, r *http.Request, q *Req) {
	id := ""
	if c, err := r.Cookie(ceremonyCookie); err == nil {
		id = c.Value
	}
	cred := r.PostForm.Get("credential")
	if len(cred) > maxCredential {
		p.jsonFail(w, "login finish", portal.ErrPasskey)
		return
	}
	token, _, err := p.Accounts.FinishPasskeyLogin(r.Context(), p.rp(r), id, []byte(cred), httpx.ClientIP(r))
	if err != nil {
		p.jsonFail(w, "login finish", err)
		return
	}
	webpage.SetCookie(w, r, ceremonyCookie, "", "/portal/", -1)
	p.setSession(w, r, token)
	next := nextOf(r)
	if next == "" {
		next = "/portal/"
	}
	p.writeJSON(w, http.StatusOK, map[string]string{"next": next})
}

func (p *Pages) writeRaw(w http.ResponseWriter, body []byte) {
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteRawJSON(w, http.StatusOK, body)
}

type accountPage struct {
	Passkeys []portal.Passkey
}

func (p *Pages) accountPage(w http.ResponseWriter, r *http.Request, q *Req) {
	keys, err := p.Accounts.Passkeys(r.Context(), q.Member.Email)
	if err != nil {
		p.fail(w, r, q.View("", "", nil), "account", err)
		return
	}
	v := q.View("Your account", "account", accountPage{Passkeys: keys})
	v.Flash = flash(r)
	p.renderPolicy(w, r, http.StatusOK, "account", v, webpage.Policy{ConnectSelf: true})
}

// flash is the confirmation a redirect after a POST carries (?done=...):
// fixed words, never the request's own text.
func flash(r *http.Request) string {
	return flashWords[r.URL.Query().Get("done")]
}

var flashWords = map[string]string{
	"passkey-added":   "Passkey added.",
	"passkey-renamed": "Passkey renamed.",
	"passkey-removed": "Passkey removed.",
	"saved":           "Saved.",
	"revoked":         "Key revoked: the API refuses it from now on.",
}

func (p *Pages) passkeyRegisterBegin(w http.ResponseWriter, r *http.Request, q *Req) {
	opts, id, err := p.Accounts.BeginPasskeyRegistration(r.Context(), q.Member.Session, p.rp(r))
	if err != nil {
		p.jsonFail(w, "register begin", err)
		return
	}
	webpage.SetCookie(w, r, ceremonyCookie, id, "/portal/", portal.CeremonyTTL)
	p.writeRaw(w, opts)
}

// passkeyName is a passkey's label as the member typed it.
func passkeyName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = "Passkey"
	}
	if len(s) > 64 || strings.ContainsAny(s, "\r\n\x00") {
		return "", badInput("A passkey's name is at most 64 characters on one line.")
	}
	return s, nil
}

func (p *Pages) passkeyRegisterFinish(w http.ResponseWriter, r *http.Request, q *Req) {
	id := ""
	if c, err := r.Cookie(ceremonyCookie); err == nil {
		id = c.Value
	}
	name, err := passkeyName(r.PostForm.Get("name"))
	if err != nil {
		p.jsonFail(w, "register finish", err)
		return
	}
	cred := r.PostForm.Get("credential")
	if len(cred) > maxCredential {
		p.jsonFail(w, "register finish", portal.ErrPasskey)
		return
	}
	if _, err := p.Accounts.FinishPasskeyRegistration(r.Context(), q.Member.Session, p.rp(r), id, name, []byte(cred)); err != nil {
		p.jsonFail(w, "register finish", err)
		return
	}
	webpage.SetCookie(w, r, ceremonyCookie, "", "/portal/", -1)
	p.writeJSON(w, http.StatusOK, map[string]string{"next": "/portal/account/?done=passkey-added"})
}

func (p *Pages) passkeyRename(w http.ResponseWriter, r *http.Request, q *Req) {
	name, err := passkeyName(r.PostForm.Get("name"))
	if err != nil {
		p.fail(w, r, q.View("", "account", nil), "passkey rename", err)
		return
	}
	if err := p.Accounts.RenamePasskey(r.Context(), q.Member.Email, r.PostForm.Get("id"), name); err != nil {
		p.fail(w, r, q.View("", "account", nil), "passkey rename", err)
		return
	}
	seeOther(w, r, "/portal/account/?done=passkey-renamed")
}

// passkeyRemove takes a passkey off the account: a change to how the
// member signs in, so it asks for a recent sign-in.
func (p *Pages) passkeyRemove(w http.ResponseWriter, r *http.Request, q *Req) {
	if !p.recent(w, r, q) {
		return
	}
	if err := p.Accounts.RemovePasskey(r.Context(), q.Member.Email, r.PostForm.Get("id")); err != nil {
		p.fail(w, r, q.View("", "account", nil), "passkey remove", err)
		return
	}
	seeOther(w, r, "/portal/account/?done=passkey-removed")
}
