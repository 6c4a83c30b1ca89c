package portalweb

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Orders is the PortalOrdersFunction's family: a store's overview, its
// orders (detail and refund) and its webhook deliveries.
func (p *Pages) Orders() (http.Handler, error) {
	co, err := checkout.Open(context.Background(), p.Deps)
	if err != nil {
		return nil, err
	}
	o := &ordersPages{Pages: p, checkout: co}
	return p.family([]route{
		{Method: "GET", Pattern: "/portal/stores/{store}/overview/{$}", Roles: Everyone, Handle: o.overview},
		{Method: "GET", Pattern: "/portal/stores/{store}/orders/{$}", Roles: Everyone, Handle: o.list},
		{Method: "GET", Pattern: "/portal/stores/{store}/orders/{order}/{$}", Roles: Everyone, Handle: o.detail},
		{Method: "POST", Pattern: "/portal/stores/{store}/orders/{order}/{$}", Roles: Support, Handle: o.refund},
		{Method: "GET", Pattern: "/portal/stores/{store}/webhooks/{$}", Roles: Everyone, Handle: o.webhooks},
		{Method: "POST", Pattern: "/portal/stores/{store}/webhooks/{$}", Roles: Everyone, Handle: o.replay},
	}), nil
}

type ordersPages struct {
	*Pages
	checkout *checkout.Service
}

// Messages shown after a change (?done=).
var ordersDone = map[string]string{
	"refunded":   "The order was refunded in full; its keys are revoked and the buyer is told.",
	"already":    "This order was refunded already; nothing more was done.",
	"replayed":   "The event is due again; the delivery retries it now.",
	"replay-all": "Every failed event is due again.",
}

type overviewPage struct {
	stores.Overview
	Currencies []string // of Last30Days, sorted
}

func (o *ordersPages) overview(w http.ResponseWriter, r *http.Request, q *Req) {
	ov, found, err := stores.StoreOverview(r.Context(), o.Deps.Store, q.Store.Slug, o.now())
	if err == nil && !found {
		err = errNotFound
	}
	if err != nil {
		o.fail(w, r, q.View("Overview", "overview", nil), "overview", err)
		return
	}
	page := overviewPage{Overview: ov}
	for c := range ov.Last30Days {
		page.Currencies = append(page.Currencies, c)
	}
	slices.Sort(page.Currencies)
	o.render(w, r, http.StatusOK, "overview", o.withDone(r, q.View("Overview", "overview", page)))
}

// ordersPage is the list: its filter as asked (to fill the form back) and
// the page.
type ordersPage struct {
	Status, Source, From, To, Query string
	Statuses, Sources               []string
	Orders                          []stores.Order
	Next                            string // the next page's URL ("" none)
	Searched                        bool
}

// ordersQuery reads the list's query string: a search (page.Query), or a
// filter, checked (stores.OrderFilter.Check); the year before now when no
// start is given.
func ordersQuery(in url.Values, now time.Time) (ordersPage, stores.OrderFilter, error) {
	page := ordersPage{Status: in.Get("status"), Source: in.Get("source"), From: in.Get("from"), To: in.Get("to"), Query: strings.TrimSpace(in.Get("q")),
		Statuses: stores.OrderStatuses, Sources: stores.OrderSources}
	if len(page.Query) > 254 {
		return page, stores.OrderFilter{}, badInput("A search is an order id, an external reference or an email address.")
	}
	f := stores.OrderFilter{Status: page.Status, Source: page.Source, Cursor: in.Get("cursor")}
	var err error
	if f.From, err = dateParam(page.From, false); err == nil {
		f.To, err = dateParam(page.To, true)
	}
	if err != nil {
		return page, f, err
	}
	if f.From.IsZero() { // the list reaches back a year unless asked for more
		f.From = now.AddDate(-1, 0, 0)
		if !f.To.IsZero() && f.To.Before(f.From) {
			f.From = f.To.AddDate(-1, 0, 0)
		}
	}
	return page, f, f.Check()
}

func (o *ordersPages) list(w http.ResponseWriter, r *http.Request, q *Req) {
	page, f, err := ordersQuery(r.URL.Query(), o.now())
	v := q.View("Orders", "orders", &page)
	if err != nil {
		o.fail(w, r, v, "orders", err)
		return
	}
	if page.Query != "" {
		found, err := stores.FindOrders(r.Context(), o.Deps.Store, q.Store.Slug, page.Query)
		if err != nil {
			o.fail(w, r, v, "orders", err)
			return
		}
		page.Orders, page.Searched = found, true
		o.render(w, r, http.StatusOK, "orders", o.withDone(r, v))
		return
	}
	res, err := stores.ListOrders(r.Context(), o.Deps.Store, q.Store.Slug, f, o.now())
	if err != nil {
		o.fail(w, r, v, "orders", err)
		return
	}
	page.Orders = res.Orders
	if res.Cursor != "" {
		next := url.Values{"cursor": {res.Cursor}}
		for k, val := range map[string]string{"status": page.Status, "source": page.Source, "from": page.From, "to": page.To} {
			if val != "" {
				next.Set(k, val)
			}
		}
		page.Next = "/portal/stores/" + q.Store.Slug + "/orders/?" + next.Encode()
	}
	o.render(w, r, http.StatusOK, "orders", o.withDone(r, v))
}

// dateParam reads a yyyy-mm-dd filter ("" none): the day's start, or its
// last instant when end.
func dateParam(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, badInput("Dates are written yyyy-mm-dd, e.g. 2026-11-30.")
	}
	if end {
		d = d.AddDate(0, 0, 1).Add(-time.Nanosecond)
	}
	return d, nil
}

type orderPage struct {
	checkout.OrderDetail
	Confirm   bool // the refund's confirmation is asked
	CanRefund bool // the member's role refunds
}

func (o *ordersPages) detail(w http.ResponseWriter, r *http.Request, q *Req) {
	o.showOrder(w, r, q, false)
}

func (o *ordersPages) showOrder(w http.ResponseWriter, r *http.Request, q *Req, confirm bool) {
	id := r.PathValue("order")
	d, err := o.checkout.OrderDetail(r.Context(), q.Store.Slug, id)
	if err != nil {
		o.fail(w, r, q.View("Order", "orders", nil), "order", err)
		return
	}
	page := orderPage{OrderDetail: d, Confirm: confirm && d.Refundable, CanRefund: slices.Contains(Support, q.Store.Role)}
	o.render(w, r, http.StatusOK, "order", o.withDone(r, q.View("Order "+d.Order.ID, "orders", page)))
}

// refund is the Refund button: without confirm=yes it asks for the
// confirmation; with it, the member having signed in within 10 minutes,
// the order is refunded in full (checkout.RefundOrder, exactly once).
func (o *ordersPages) refund(w http.ResponseWriter, r *http.Request, q *Req) {
	if r.PostForm.Get("action") != "refund" {
		o.fail(w, r, q.View("Order", "orders", nil), "order", badInput("Unknown action."))
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		o.showOrder(w, r, q, true)
		return
	}
	if !o.recent(w, r, q) {
		return
	}
	id := r.PathValue("order")
	audit := portal.AuditOp(o.Deps.Store.Tables.Portal, q.Store.Slug, q.Actor(r), "order.refund", "order "+id, o.now())
	res, err := o.checkout.RefundOrder(r.Context(), q.Store.Slug, id, audit)
	if err != nil {
		o.fail(w, r, q.View("Order", "orders", nil), "refund", err)
		return
	}
	done := "refunded"
	if res.Already {
		done = "already"
	}
	seeOther(w, r, "/portal/stores/"+q.Store.Slug+"/orders/"+res.OrderID+"/?done="+done)
}

type webhooksPage struct {
	Deliveries []stores.Delivery
	Failed     []stores.Delivery
	Next       string
}

func (o *ordersPages) webhooks(w http.ResponseWriter, r *http.Request, q *Req) {
	v := q.View("Webhooks", "webhooks", nil)
	page, err := stores.Deliveries(r.Context(), o.Deps.Store, q.Store.Slug, r.URL.Query().Get("cursor"), 25, o.now())
	if err != nil {
		o.fail(w, r, v, "webhooks", err)
		return
	}
	failed, err := stores.FailedDeliveries(r.Context(), o.Deps.Store, q.Store.Slug, 25)
	if err != nil {
		o.fail(w, r, v, "webhooks", err)
		return
	}
	wp := webhooksPage{Deliveries: page.Deliveries, Failed: failed}
	if page.Cursor != "" {
		wp.Next = "/portal/stores/" + q.Store.Slug + "/webhooks/?" + url.Values{"cursor": {page.Cursor}}.Encode()
	}
	v.Page = wp
	o.render(w, r, http.StatusOK, "webhooks", o.withDone(r, v))
}

// replay replays one event (action=replay, event=ID) or every failed one
// (action=replay-all).
func (o *ordersPages) replay(w http.ResponseWriter, r *http.Request, q *Req) {
	v := q.View("Webhooks", "webhooks", nil)
	now := o.now()
	var err error
	done := "replayed"
	switch r.PostForm.Get("action") {
	case "replay":
		id := r.PostForm.Get("event")
		if id == "" || len(id) > 512 {
			o.fail(w, r, v, "webhooks", badInput("Choose an event to replay."))
			return
		}
		audit := portal.AuditOp(o.Deps.Store.Tables.Portal, q.Store.Slug, q.Actor(r), "webhook.replay", "event "+id, now)
		err = stores.ReplayDelivery(r.Context(), o.Deps.Store, q.Store.Slug, id, audit, now)
	case "replay-all":
		audit := portal.AuditOp(o.Deps.Store.Tables.Portal, q.Store.Slug, q.Actor(r), "webhook.replay_all", "every failed event", now)
		_, err = stores.ReplayFailed(r.Context(), o.Deps.Store, q.Store.Slug, audit, now)
		done = "replay-all"
	default:
		err = badInput("Unknown action.")
	}
	if err != nil {
		o.fail(w, r, v, "webhooks", err)
		return
	}
	seeOther(w, r, "/portal/stores/"+q.Store.Slug+"/webhooks/?done="+done)
}

// withDone adds the confirmation the URL's done names.
func (o *ordersPages) withDone(r *http.Request, v view) view {
	v.Flash = ordersDone[r.URL.Query().Get("done")]
	return v
}

// ordersStatus maps the orders family's domain refusals (fail reads it).
func ordersStatus(err error) (int, string, bool) {
	var ref *refusal.Error
	msg := ""
	if errors.As(err, &ref) {
		msg = ref.Message
	}
	switch {
	case errors.Is(err, stores.ErrNoOrder), errors.Is(err, stores.ErrNoEvent):
		return http.StatusNotFound, "", true
	case errors.Is(err, stores.ErrBadCursor):
		return http.StatusBadRequest, "That page link is not valid any more; start from the first page.", true
	case errors.Is(err, stores.ErrBadFilter):
		return http.StatusBadRequest, msg, true
	case errors.Is(err, checkout.ErrNotRefundable), errors.Is(err, checkout.ErrRefundRefused):
		return http.StatusConflict, msg, true
	case errors.Is(err, checkout.ErrRefundUnderWay):
		return http.StatusConflict, "A refund of this order is under way; reload the order in a moment.", true
	}
	return 0, "", false
}
