// Package checkoutweb is the HTTP layer of the hosted checkout: the cart
// page (sessions and add-to-cart links), the pay page, the order page and
// /market/, rendered server-side from embedded html/template files. It
// decodes what the browser sends, calls shared/storefront/checkout and renders the
// answer; the rules live in shared/storefront/checkout. Everything it hands out (cart
// cookies, CSRF tokens, pay and order links) is signed with shared/platform/signing.
package checkoutweb

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
	"github.com/tollgate-dev/tollgate/shared/platform/webpage"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
)

// Checkout is what the pages need of the checkout domain; *checkout.Service
// has it.
type Checkout interface {
	Quote(ctx context.Context, c checkout.CartRef, b checkout.Buyer) (checkout.Quote, error)
	StartPayment(ctx context.Context, c checkout.CartRef, b checkout.Buyer) (checkout.Payment, error)
	SandboxPay(ctx context.Context, store, orderID, card string) (returnURL string, err error)
	Order(ctx context.Context, store, orderID string) (checkout.OrderView, error)
	Market(ctx context.Context) ([]checkout.MarketItem, error)
}

var _ Checkout = (*checkout.Service)(nil)

// Pages serves the checkout's pages.
type Pages struct {
	svc    Checkout
	signer signing.Signer
	log    *slog.Logger
	now    func() time.Time
}

// New returns the pages over svc, signing with signer.
func New(svc Checkout, signer signing.Signer, log *slog.Logger, now func() time.Time) *Pages {
	if now == nil {
		now = time.Now
	}
	return &Pages{svc: svc, signer: signer, log: log, now: now}
}

//go:embed templates/*.html
var templateFS embed.FS

var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"cart", "pay", "order", "market", "error"} {
		out[name] = template.Must(template.New(name+".html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/summary.html", "templates/"+name+".html"))
	}
	return out
}()

// styleCSS is the pages' stylesheet, shared with the partner portal
// (Stylesheet): one look for every page Tollgate serves.
//
//go:embed style.css
var styleCSS string

// Stylesheet is the checkout's stylesheet, inlined under a page's nonce.
func Stylesheet() template.CSS { return template.CSS(styleCSS) } //nolint:gosec // G203: our own embedded file, not input

var funcs = template.FuncMap{
	"style": Stylesheet,
	"deref": func(p *int64) int64 { return *p },
	"sumview": func(l Locale, o summary) summaryView {
		return summaryView{L: l, Order: o}
	},
}

// summaryView is the data of the order summary shared by the pay and order pages.
type summaryView struct {
	L     Locale
	Order summary
}

// view is what every page template is given.
type view struct {
	L       Locale
	Title   string
	Nonce   string
	Refresh int // seconds before the page reloads itself (0: never)
	CSRF    string
	Store   string // the store's name, shown in the header
	Page    any    // the page's own data
}

// policy is what a page's Content-Security-Policy allows beyond its own
// origin and nonce (shared/platform/webpage).
type policy = webpage.Policy

// render writes page name with status, under its security headers.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, name string, v view, pol policy) {
	v.Nonce = webpage.NewNonce()
	webpage.Headers(w, v.Nonce, pol)
	var buf strings.Builder
	if err := pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		p.log.Error("checkout page not rendered", "page", name, "error", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// errorPage is the friendly page of a failure.
type errorPage struct {
	Status  int
	Heading string
	Text    string
	Detail  string // the refusal's own words, when it has any
}

// fail renders the page of err, mapping the checkout's errors to statuses
// in this one place: never a stack trace, never a 500.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, l Locale, what string, err error) {
	status, detail := http.StatusServiceUnavailable, ""
	var ref *refusal.Error
	switch {
	case errors.Is(err, checkout.ErrNoStore), errors.Is(err, checkout.ErrNoSession), errors.Is(err, checkout.ErrNoOrder), errors.Is(err, errNotFound):
		status = http.StatusNotFound
	case errors.Is(err, checkout.ErrSessionExpired):
		status = http.StatusGone
	case errors.Is(err, errCSRF):
		status = http.StatusForbidden
	case errors.Is(err, checkout.ErrInvalid), errors.As(err, new(*badRequest)):
		status, detail = http.StatusBadRequest, err.Error()
	case errors.As(err, &ref):
		status, detail = http.StatusConflict, ref.Message
	}
	if status == http.StatusServiceUnavailable {
		p.log.Error("checkout page failed", "page", what, "error", err)
	} else {
		p.log.Info("checkout page refused", "page", what, "status", status, "error", err)
	}
	p.showError(w, r, l, status, detail)
}

func (p *Pages) showError(w http.ResponseWriter, r *http.Request, l Locale, status int, detail string) {
	key := map[int]string{404: "error_404", 410: "error_410", 400: "error_400", 403: "error_403", 409: "error_409"}[status]
	if key == "" {
		key = "error_503"
	}
	e := errorPage{Status: status, Heading: l.T(key), Detail: detail}
	if status != 400 && status != 409 {
		e.Text = l.T(key + "_text")
	}
	p.render(w, r, status, "error", view{L: l, Title: e.Heading, Page: e}, policy{})
}

// badRequest is input the page cannot use; its message is shown.
type badRequest struct{ msg string }

func (b *badRequest) Error() string { return b.msg }

func badInput(msg string) error { return &badRequest{msg: msg} }

var (
	errNotFound = errors.New("checkoutweb: not found")
	errCSRF     = webpage.ErrCSRF
)

// Open builds the pages over the checkout service of d.
func Open(d deps.Deps) (*Pages, error) {
	svc, err := checkout.Open(context.Background(), d)
	if err != nil {
		return nil, err
	}
	return New(svc, signing.New(d.Secrets), d.Logger, d.Now), nil
}

// Handler is the constructor of one page's function: the pages are opened
// from d once, at init, and page picks the handler the function serves.
func Handler(page func(*Pages) http.Handler) func(deps.Deps) (http.Handler, error) {
	return func(d deps.Deps) (http.Handler, error) {
		p, err := Open(d)
		if err != nil {
			return nil, err
		}
		return page(p), nil
	}
}
