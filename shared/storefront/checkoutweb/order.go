package checkoutweb

import (
	"net/http"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
)

// refreshEvery is how often the order page reloads until the keys exist.
const refreshEvery = 2 * time.Second

// orderPage is the order template's data.
type orderPage struct {
	Order      summary
	StatusKey  string
	Refreshing bool
	Fulfilled  bool
	KeyCount   int
}

// Order serves GET /s/{store_slug}/orders/{order_id}/?sig= (a signed link).
func (p *Pages) Order() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := localeFor(r, "")
		store, orderID, ok := pathOrder(r)
		if !ok {
			p.fail(w, r, l, "order", errNotFound)
			return
		}
		sig, err := one(r.URL.Query(), "sig")
		if err != nil {
			p.fail(w, r, l, "order", err)
			return
		}
		if err := p.checkOrderLink(r.Context(), store, orderID, sig); err != nil {
			p.fail(w, r, l, "order", err)
			return
		}
		o, l, ok := p.order(w, r, "order", store, orderID)
		if !ok {
			return
		}
		page := orderPage{Order: summarize(o)}
		for _, it := range o.Items {
			page.KeyCount += len(it.LicenseKeys)
		}
		// Keys exist once fulfilled; a refund revokes them (the checkout
		// stops returning them).
		page.Fulfilled = page.KeyCount > 0
		switch {
		case o.DuplicateOf != "":
			// A second payment of a paid session: refunded, never fulfilled
			// (pending until the PSP's refund is recorded).
			page.StatusKey = "status_duplicate"
		case o.Status == "pending":
			page.StatusKey, page.Refreshing = "status_pending", true
		case o.Status == "fulfilled", o.Status == "refunded", o.Status == "partially_refunded", o.Status == "cancelled":
			page.StatusKey = "status_" + o.Status
		}
		v := view{L: l, Title: l.T("order"), Store: o.StoreName, Page: page}
		if page.Refreshing {
			v.Refresh = int(refreshEvery.Seconds())
		}
		if page.Fulfilled {
			// Bought: the add-to-cart cart of this store is done with.
			http.SetCookie(w, &http.Cookie{Name: cartCookie, Value: "", Path: cartPath(store), MaxAge: -1, HttpOnly: true, Secure: httpx.Secure(r), SameSite: http.SameSiteLaxMode})
		}
		p.render(w, r, http.StatusOK, "order", v, policy{})
	})
}

// order reads an order for page what (order or pay) and the locale to
// show it in (the request's, else the order's); ok false: the read failed
// and the failure page was served.
func (p *Pages) order(w http.ResponseWriter, r *http.Request, what, store, orderID string) (o checkout.OrderView, l Locale, ok bool) {
	o, err := p.svc.Order(r.Context(), store, orderID)
	l = localeFor(r, o.Locale)
	if err != nil {
		p.fail(w, r, l, what, err)
		return o, l, false
	}
	return o, l, true
}
