package checkoutweb

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// The sandbox's test cards (shared/storefront/checkout.SandboxPay).
const (
	CardSucceeds = "4242424242424242"
	CardDeclines = "4000000000000002"
)

// payPage is the pay template's data.
type payPage struct {
	Order          summary
	PSP            string
	Sig            string
	Action         string
	Stripe         bool
	Sandbox        bool
	Lost           bool // a Stripe payment whose secrets this browser lacks
	ClientSecret   string
	PublishableKey string
	ReturnURL      string
	Message        string
}

// summary is an order as the pay and order pages show it.
type summary struct {
	checkout.OrderView
	Lines []summaryLine
}

type summaryLine struct {
	stores.OrderItem
	Name      string // the product's name when bought (the SKU if unknown)
	LineMinor int64
}

// summarize lists the order's lines; subtotal, tax and total are the
// order's own (OrderView.Amounts: as quoted and charged, never recomputed).
func summarize(o checkout.OrderView) summary {
	s := summary{OrderView: o}
	for _, it := range o.Items {
		line := summaryLine{OrderItem: it, Name: o.ProductNames[it.SKU]}
		if line.Name == "" {
			line.Name = it.SKU
		}
		if it.UnitPriceMinor != nil {
			line.LineMinor = *it.UnitPriceMinor * it.Quantity
		}
		s.Lines = append(s.Lines, line)
	}
	return s
}

// pathOrder reads and checks the store and order of a pay or order page.
func pathOrder(r *http.Request) (store, orderID string, ok bool) {
	store, orderID = r.PathValue("store_slug"), r.PathValue("order_id")
	return store, orderID, stores.ValidSlug(store) && stores.ValidOrderID(orderID)
}

// Pay serves GET and POST /s/{store_slug}/pay/{order_id}/ (a signed link).
func (p *Pages) Pay() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := localeFor(r, "")
		store, orderID, ok := pathOrder(r)
		if !ok {
			p.fail(w, r, l, "pay", errNotFound)
			return
		}
		var vals url.Values
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				p.fail(w, r, l, "pay", badInput("the form could not be read"))
				return
			}
			vals = r.PostForm
		} else {
			vals = r.URL.Query()
		}
		pspType, sig := vals.Get("psp"), vals.Get("sig")
		if err := p.checkPayLink(r.Context(), store, orderID, pspType, sig); err != nil {
			p.fail(w, r, l, "pay", err)
			return
		}
		page := payPage{PSP: pspType, Sig: sig}
		if r.Method == http.MethodPost {
			if err := p.checkCSRF(r, store); err != nil {
				p.fail(w, r, l, "pay", err)
				return
			}
			p.payPost(w, r, store, orderID, page)
			return
		}
		p.showPay(w, r, http.StatusOK, store, orderID, page)
	})
}

func (p *Pages) showPay(w http.ResponseWriter, r *http.Request, status int, store, orderID string, page payPage) {
	o, l, ok := p.order(w, r, "pay", store, orderID)
	if !ok {
		return
	}
	if o.Status != "pending" {
		// Paid (or otherwise settled) already: the order page says how.
		p.redirectOrder(w, r, store, orderID, "")
		return
	}
	page.Order = summarize(o)
	page.Action = r.URL.Path
	pol := policy{}
	switch psp.Type(page.PSP) {
	case psp.Stripe:
		s, ok := p.readStripe(r, store, orderID)
		if !ok {
			page.Lost = true
			break
		}
		link, err := p.OrderLink(r.Context(), store, orderID)
		if err != nil {
			p.fail(w, r, l, "pay", err)
			return
		}
		page.Stripe, page.ClientSecret, page.PublishableKey, page.ReturnURL = true, s.ClientSecret, s.PublishableKey, link
		pol.Stripe = true
	default:
		page.Sandbox = true
		if origin := validate.Origin(o.ReturnURLSuccess); origin != "" {
			// The form's answer redirects there; form-action covers redirects.
			pol.FormTargets = append(pol.FormTargets, origin)
		}
	}
	csrf, err := p.csrfToken(w, r, store)
	if err != nil {
		p.fail(w, r, l, "pay", err)
		return
	}
	p.render(w, r, status, "pay", view{L: l, Title: l.T("pay"), CSRF: csrf, Store: o.StoreName, Page: page}, pol)
}

func (p *Pages) payPost(w http.ResponseWriter, r *http.Request, store, orderID string, page payPage) {
	l := localeFor(r, "")
	card := r.PostForm.Get("card")
	if card != CardSucceeds && card != CardDeclines {
		p.fail(w, r, l, "pay", badInput("choose one of the test cards"))
		return
	}
	if psp.Type(page.PSP) != psp.Sandbox {
		p.fail(w, r, l, "pay", badInput("this payment is not a test payment"))
		return
	}
	success, err := p.svc.SandboxPay(r.Context(), store, orderID, card)
	if err != nil {
		var ref *refusal.Error
		if errors.Is(err, checkout.ErrDeclined) && errors.As(err, &ref) {
			// Declined: the customer may choose again.
			page.Message = ref.Message
			p.showPay(w, r, http.StatusPaymentRequired, store, orderID, page)
			return
		}
		p.fail(w, r, l, "pay", err)
		return
	}
	p.redirectOrder(w, r, store, orderID, success)
}

// redirectOrder sends the browser to the merchant's success URL with
// ?order_id=, or else to the order's own page.
func (p *Pages) redirectOrder(w http.ResponseWriter, r *http.Request, store, orderID, success string) {
	if clean, err := validate.HTTPURL(success); err == nil {
		u, _ := url.Parse(clean)
		q := u.Query()
		q.Set("order_id", orderID)
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther) //nolint:gosec // G710: the store's own success URL kept with the order (http(s) only), by design
		return
	}
	link, err := p.OrderLink(r.Context(), store, orderID)
	if err != nil {
		p.fail(w, r, localeFor(r, ""), "pay", err)
		return
	}
	http.Redirect(w, r, link, http.StatusSeeOther) //nolint:gosec // G710: the order link OrderLink signed, of this site
}
