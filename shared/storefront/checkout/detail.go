package checkout

import (
	"context"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// OrderDetail is an order as the portal shows it to its store: its lines
// and keys, how it was paid, and the events it caused with their
// deliveries.
type OrderDetail struct {
	// Order, with its license keys once allocated (also after a refund:
	// KeysRevoked says they no longer work).
	Order        stores.Order
	ProductNames map[string]string // sku -> name when bought (checkout orders)
	// Payment: a checkout order's (PSP "" for a licensing API order, paid
	// outside Tollgate).
	PSP          psp.Type
	PSPPaymentID string // the PSP's payment (Stripe: pi_...)
	PSPRefundID  string // the PSP's refund, once made
	RefundStatus string // the PSP's answer to it (SUCCESS, PENDING, FAIL)
	RefundError  string // why the PSP refused it
	DuplicateOf  string // its payment was refunded as the second of a session paid by that order
	// Refundable: the portal may refund it (RefundOrder).
	Refundable bool
	// Events: the store's webhooks and the buyer's emails of the order,
	// oldest first, with their delivery state.
	Events []stores.Delivery
}

// OrderDetail reads order id of store slug for the portal (ErrNoOrder):
// the order and its keys, its payment record, and its events from the
// outbox's ordered index (both ordering keys: the store's and the buyer's
// emails), which holds every event of the order whatever ids their
// suffixes took (a partial refund's total, a dispute's state).
func (s *Service) OrderDetail(ctx context.Context, slug, id string) (OrderDetail, error) {
	if !stores.ValidSlug(slug) || !stores.ValidOrderID(id) {
		return OrderDetail{}, refusal.New(ErrNoOrder, "no such order")
	}
	o, found, err := s.ful.ReadOrder(ctx, slug, id)
	if err != nil {
		return OrderDetail{}, err
	}
	if !found {
		return OrderDetail{}, refusal.New(ErrNoOrder, "store %q has no order %s", slug, id)
	}
	d := OrderDetail{Order: o, ProductNames: map[string]string{}}
	rec, err := s.payment(ctx, slug, id)
	if err != nil {
		return OrderDetail{}, err
	}
	if rec != nil {
		d.PSP, d.PSPPaymentID = psp.Type(dynamo.StringAttr(rec[attrPSP])), dynamo.StringAttr(rec[attrPSPID])
		d.PSPRefundID, d.RefundStatus = dynamo.StringAttr(rec[attrRefundID]), dynamo.StringAttr(rec[attrRefundStatus])
		d.RefundError, d.DuplicateOf = dynamo.StringAttr(rec[attrRefundMessage]), dynamo.StringAttr(rec[attrDuplicateOf])
		d.ProductNames = productNames(rec)
		d.Refundable = o.Source != stores.SourceAPI && o.Fulfilled && o.RefundedMinor < o.TotalMinor && o.Dispute == "" &&
			d.DuplicateOf == "" && d.RefundStatus != string(psp.StatusFail)
	}
	box := outbox.Box{DB: s.st.DB, Table: s.st.Tables.Outbox}
	for _, key := range []string{stores.OrderingKey(slug, id), dynamo.Tuple(stores.EmailKind, slug, id)} {
		evs, err := box.Sequence(ctx, key)
		if err != nil {
			return OrderDetail{}, err
		}
		for _, ev := range evs {
			d.Events = append(d.Events, stores.DeliveryOf(ev))
		}
	}
	return d, nil
}
