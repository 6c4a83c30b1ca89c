package portalweb

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
	"github.com/tollgate-dev/tollgate/shared/platform/webpage"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkoutweb"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

// Pages serves the partner portal's pages. One Pages is opened per
// function at init; a family (Auth, Store, Orders, Team) picks its routes.
type Pages struct {
	Deps     deps.Deps       // the function's dependencies: families open their domain services from it
	Accounts *portal.Service // members, sessions, sign-in, audit
	signer   signing.Signer
	log      *slog.Logger
	now      func() time.Time
	origin   string // PORTAL_ORIGIN: the portal's public origin, "" to take the request's own
}

//go:embed templates/*.html
var templateFS embed.FS

// partials are parsed into every page.
var partials = []string{"templates/layout.html", "templates/parts.html"}

var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, file := range names {
		if file == partials[0] || file == partials[1] {
			continue
		}
		name := strings.TrimSuffix(path.Base(file), ".html")
		out[name] = template.Must(template.New(name+".html").Funcs(funcs).ParseFS(templateFS, append([]string{file}, partials...)...))
	}
	return out
}()

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"money":    func(l checkoutweb.Locale, minor int64, currency string) string { return l.Money(minor, currency) },
	"style":    checkoutweb.Stylesheet,
	"sections": func() []section { return sections },
}

// section is one entry of a store's navigation.
type section struct{ ID, Label string }

// sections are a store's pages in the order the navigation lists them
// (StoreRef.Can hides the ones the member's role does not open).
var sections = []section{
	{"overview", "Overview"}, {"orders", "Orders"}, {"webhooks", "Webhooks"}, {"products", "Products"},
	{"licenses", "License keys"}, {"apikeys", "API keys"}, {"settings", "Settings"}, {"team", "Team"}, {"audit", "Audit log"},
}

// view is what every page template is given.
type view struct {
	L      checkoutweb.Locale
	Title  string
	Nonce  string
	CSRF   string
	Member *Member // the signed-in member, nil on the sign-in pages
	Store  *StoreRef
	Nav    string // the current section, for aria-current
	Flash  string // a one-line confirmation shown above the page
	Page   any    // the page's own data
}

// render writes page name with status, under the pages' security headers.
// v.CSRF is filled here: every page may hold a form.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	p.renderPolicy(w, r, status, name, v, webpage.Policy{})
}

func (p *Pages) renderPolicy(w http.ResponseWriter, r *http.Request, status int, name string, v view, pol webpage.Policy) {
	t, ok := pages[name]
	if !ok {
		p.log.Error("portal page has no template", "page", name)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if v.CSRF == "" {
		token, err := p.csrf().Token(w, r, csrfScope)
		if err != nil {
			p.log.Error("portal CSRF token not made", "page", name, "error", err)
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		v.CSRF = token
	}
	if v.L.Lang == "" {
		v.L = checkoutweb.LocaleFor(r)
	}
	v.Nonce = webpage.NewNonce()
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		p.log.Error("portal page not rendered", "page", name, "error", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	webpage.Headers(w, v.Nonce, pol)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// errorPage is the page of a refusal or failure.
type errorPage struct {
	Status  int
	Heading string
	Text    string
}

var errorText = map[int][2]string{
	400: {"That did not work", "The form had something the portal cannot use; go back and check it."},
	403: {"Not for your role", "Your role in this store does not include this page. An owner of the store can change your role."},
	404: {"Not found", "There is nothing here, or it is not yours to see."},
	409: {"Already changed", "Someone changed this in the meantime; reload the page and try again."},
	410: {"Link expired", "This link was used already or has expired."},
	413: {"Too large", "That was more than the portal takes at once."},
	429: {"Too many requests", "Wait a few minutes and try again."},
	503: {"Temporarily unavailable", "Something on our side did not answer. Try again in a moment; nothing was lost."},
}

// showError renders the error page of status; detail, when set, replaces
// the generic text (a refusal's own words, escaped by the template).
func (p *Pages) showError(w http.ResponseWriter, r *http.Request, v view, status int, detail string) {
	words, ok := errorText[status]
	if !ok {
		status, words = http.StatusServiceUnavailable, errorText[503]
	}
	e := errorPage{Status: status, Heading: words[0], Text: words[1]}
	if detail != "" {
		e.Text = detail
	}
	v.Title, v.Page = e.Heading, e
	p.render(w, r, status, "error", v)
}

// Errors of the web layer itself.
var (
	errNotFound  = errors.New("portalweb: not found")
	errForbidden = errors.New("portalweb: not for this role")
	errTooLarge  = errors.New("portalweb: request too large")
)

// badRequest is input the page cannot use; its message is shown.
type badRequest struct{ msg string }

func (b *badRequest) Error() string { return b.msg }

func badInput(msg string) error { return &badRequest{msg: msg} }

// Shower is a domain error that carries its own status and words for the
// member (a refusal: "3 keys left", "the last owner cannot leave").
type Shower interface {
	error
	PortalStatus() (status int, message string)
}

// fail renders the page of err, mapping errors to statuses in this one
// place: never a stack trace, never a 500.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, v view, what string, err error) {
	status, detail := http.StatusServiceUnavailable, ""
	var bad *badRequest
	var shown Shower
	var limited *portal.RateLimitedError
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, portal.ErrNotMember), errors.Is(err, portal.ErrNoStore), errors.Is(err, portal.ErrNoPasskey):
		status = http.StatusNotFound
	case errors.Is(err, portal.ErrLinkInvalid):
		status, detail = http.StatusGone, "This sign-in link was used already, has expired, or was asked for in another browser. Ask for a new one on the sign-in page, in this browser."
	case errors.Is(err, portal.ErrInvite):
		status, detail = http.StatusGone, "This invitation was used already or has expired. Ask an owner of the store for a new one."
	case errors.Is(err, portal.ErrLastOwner):
		status, detail = http.StatusConflict, "A store keeps at least one owner: make someone else an owner first."
	case errors.Is(err, portal.ErrMember):
		status, detail = http.StatusConflict, "That address is already a member of this store."
	case errors.Is(err, portal.ErrEmail):
		status, detail = http.StatusBadRequest, "Enter an email address like name@example.com."
	case errors.Is(err, portal.ErrRole):
		status, detail = http.StatusBadRequest, "The role must be owner, developer or support."
	case errors.Is(err, portal.ErrName):
		status, detail = http.StatusBadRequest, "A passkey's name is 1 to 64 characters."
	case errors.Is(err, portal.ErrCursor):
		status, detail = http.StatusBadRequest, "That page link is not valid any more; start from the first page."
	case errors.Is(err, portal.ErrNoNonce):
		status, detail = http.StatusBadRequest, "Your browser did not keep the portal's cookie. Allow cookies for this site and try again."
	case errors.Is(err, errForbidden):
		status = http.StatusForbidden
	case errors.Is(err, webpage.ErrCSRF):
		status, detail = http.StatusForbidden, "This form has expired or did not come from the portal. Reload the page and try again."
	case errors.Is(err, errTooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.As(err, &limited):
		status = http.StatusTooManyRequests
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Seconds()+0.999)))
	case errors.As(err, &bad):
		status, detail = http.StatusBadRequest, bad.msg
	case errors.As(err, &shown):
		status, detail = shown.PortalStatus()
	}
	if status >= 500 {
		p.log.Error("portal page failed", "page", what, "error", err)
	} else {
		p.log.Info("portal page refused", "page", what, "status", status, "error", err)
	}
	p.showError(w, r, v, status, detail)
}

// Open builds the pages over the accounts of d; mails: the function
// sends the portal's emails (Auth, Team).
func Open(d deps.Deps, mails bool) (*Pages, error) {
	acct, err := openAccounts(d, mails)
	if err != nil {
		return nil, err
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	return &Pages{Deps: d, Accounts: acct, signer: signing.New(d.Secrets), log: d.Logger, now: now, origin: d.Getenv(EnvOrigin)}, nil
}

// EnvOrigin names the portal's public origin (https://portal.example.com):
// the origin of the links in its emails and of its passkeys. Unset, the
// request's own origin is used (make run, the API's default domain).
const EnvOrigin = "PORTAL_ORIGIN"

// Handler is the constructor of one family's function: the pages are
// opened from d once, at init, and family picks the routes it serves.
func Handler(family func(*Pages) (http.Handler, error)) func(deps.Deps) (http.Handler, error) {
	return handler(family, false)
}

// MailingHandler is Handler for a family that sends the portal's emails.
func MailingHandler(family func(*Pages) (http.Handler, error)) func(deps.Deps) (http.Handler, error) {
	return handler(family, true)
}

func handler(family func(*Pages) (http.Handler, error), mails bool) func(deps.Deps) (http.Handler, error) {
	return func(d deps.Deps) (http.Handler, error) {
		p, err := Open(d, mails)
		if err != nil {
			return nil, err
		}
		return family(p)
	}
}

// baseURL is the origin links in emails point to.
func (p *Pages) baseURL(r *http.Request) string {
	if p.origin != "" {
		return p.origin
	}
	return requestOrigin(r)
}
