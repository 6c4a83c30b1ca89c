package stores

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/apikey"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

// The lifecycle of an order paid through the checkout. shared/storefront/stores owns
// the order rows; the checkout composes these ops into its own
// transactions (with its record of the PSP event that caused them), so a
// change, its event and the record of its cause commit together.
//
// Rows and attributes it adds to the layout in stores.go:
//
//	("order", slug, orderId), "order"    + source, fulfilledAt, refundedMinor, keysRevoked, dispute, disputeId
//	("orderref", slug, ref), "orderref"  order: the checkout order that paid external reference ref
//	product rows of marketplace products + marketPk "market", marketSk (slug, sku): the sparse index "market"

// Attributes of the lifecycle.
const (
	attrDispute       = "dispute"
	attrDisputeID     = "disputeId"
	attrKeysRevoked   = "keysRevoked"
	attrFulfilledAt   = "fulfilledAt"
	attrRefundedMinor = "refundedMinor"
	attrStatus        = "status"
	skOrderRef        = "orderref"
)

// OrderKey is the primary key of order id of store slug.
func OrderKey(slug, id string) dynamo.Key { return dynamo.PKSK(orderPK(slug, id), skOrder) }

// paidRefKey is the row saying which order paid (store, external
// reference): the checkout refuses another session for it.
func paidRefKey(slug, ref string) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("orderref", slug, ref), skOrderRef)
}

// PlacePendingOps writes o as a new pending order and its order.created
// event: the first write of a checkout payment. The order row is
// conditional on being new (the caller reads Failed(0) as "placed before").
func PlacePendingOps(t dynamo.Tables, o Order) ([]types.TransactWriteItem, error) {
	o.Status = StatusPending
	ev, err := outbox.EnqueueOp(t.Outbox, event(o, "order.created", "", o.CreatedAt))
	if err != nil {
		return nil, err
	}
	return []types.TransactWriteItem{dynamo.PutNewOp(t.Stores, o.item()), ev}, nil
}

// FulfilPendingOps fulfils pending order o (as stored) with the keys res
// reserved (Fulfiller.Reserve): the order moves pending -> fulfilled only
// if it is still pending and undisputed (a refund, cancellation or dispute
// that came first wins) and records the ranges it claims, each claim moves
// its shard's cursor with the same allocation as licensing fulfil, the
// order.fulfilled event and the buyer's receipt are enqueued and, when the order has an external
// reference, the reference is recorded as paid. Item 0 is the order's
// condition; the claims are at ClaimAt (res.Done takes that index).
func FulfilPendingOps(t dynamo.Tables, o Order, res *Reservation, now time.Time) ([]types.TransactWriteItem, error) {
	upd := dynamo.SetAll(map[string]types.AttributeValue{attrStatus: dynamo.S(StatusFulfilled), attrUpdatedAt: dynamo.Time(now),
		attrFulfilledAt: dynamo.Time(now), attrClaims: claimsAttr(res.Claims)})
	cond := expression.Name(attrStatus).Equal(expression.Value(StatusPending)).
		And(expression.AttributeNotExists(expression.Name(attrDispute)))
	tx := []types.TransactWriteItem{dynamo.UpdateOp(t.Stores, OrderKey(o.Store, o.ID), upd, dynamo.Cond(cond))}
	tx = append(tx, res.ops(t.Stores)...)
	o.Status = StatusFulfilled
	ev, err := outbox.EnqueueOp(t.Outbox, event(o, "order.fulfilled", "", now))
	if err != nil {
		return nil, err
	}
	tx = append(tx, ev)
	mail, err := EmailOps(t.Outbox, o, EmailReceipt, "", now) // the buyer's receipt
	if err != nil {
		return nil, err
	}
	tx = append(tx, mail...)
	if o.ExternalReference != "" {
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(t.Stores),
			Item: withKey(paidRefKey(o.Store, o.ExternalReference), map[string]types.AttributeValue{attrOrder: dynamo.S(o.ID)})}})
	}
	return tx, nil
}

// ClaimAt is the index of the first claim in FulfilPendingOps.
const ClaimAt = 1

// RefundOps records that o's refunded total is now refundedTotal (the
// PSP's running total; a smaller or equal one than recorded changes
// nothing, so the caller checks first and the condition guards a race):
// the order becomes refunded (or partially_refunded), its keys are marked
// revoked, and order.refunded and the buyer's notice are enqueued. A pending order refunded before
// its payment's success is never fulfilled afterwards.
func RefundOps(t dynamo.Tables, o Order, refundedTotal int64, now time.Time) ([]types.TransactWriteItem, error) {
	status := StatusRefunded
	if refundedTotal < o.TotalMinor {
		status = StatusPartiallyRefunded
	}
	upd := dynamo.SetAll(map[string]types.AttributeValue{attrStatus: dynamo.S(status), attrRefundedMinor: dynamo.N(refundedTotal),
		attrKeysRevoked: dynamo.Bool(true), attrUpdatedAt: dynamo.Time(now)})
	cond := dynamo.Exists().And(expression.Or(
		expression.AttributeNotExists(expression.Name(attrRefundedMinor)),
		expression.Name(attrRefundedMinor).LessThan(expression.Value(refundedTotal))))
	o.Status, o.RefundedMinor, o.KeysRevoked = status, refundedTotal, true
	ev, err := outbox.EnqueueOp(t.Outbox, event(o, "order.refunded", fmt.Sprint(refundedTotal), now))
	if err != nil {
		return nil, err
	}
	mail, err := EmailOps(t.Outbox, o, EmailRefund, fmt.Sprint(refundedTotal), now) // the buyer's notice
	if err != nil {
		return nil, err
	}
	return append([]types.TransactWriteItem{dynamo.UpdateOp(t.Stores, OrderKey(o.Store, o.ID), upd, dynamo.Cond(cond)), ev}, mail...), nil
}

// DisputeOps records dispute disputeID of o in state (the PSP's dispute
// status: needs_response, won, lost, ...) and enqueues order.disputed. A
// disputed pending order is never fulfilled afterwards.
func DisputeOps(t dynamo.Tables, o Order, disputeID, state string, now time.Time) ([]types.TransactWriteItem, error) {
	upd := dynamo.SetAll(map[string]types.AttributeValue{attrDispute: dynamo.S(state), attrDisputeID: dynamo.S(disputeID),
		attrUpdatedAt: dynamo.Time(now)})
	o.Dispute = state
	ev, err := outbox.EnqueueOp(t.Outbox, event(o, "order.disputed", disputeID+":"+state, now))
	if err != nil {
		return nil, err
	}
	return []types.TransactWriteItem{dynamo.UpdateOp(t.Stores, OrderKey(o.Store, o.ID), upd, dynamo.Cond(dynamo.Exists())), ev}, nil
}

func withKey(k dynamo.Key, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	for a, v := range k {
		item[a] = v
	}
	return item
}

// OrderFromItem reads an order row (as a cancelled transaction returns it).
func OrderFromItem(item map[string]types.AttributeValue) (Order, error) { return orderFromItem(item) }

// ReadOrder reads order id of store slug (strongly consistent) with its
// license keys once they are allocated. found false: no such order.
func (f *Fulfiller) ReadOrder(ctx context.Context, slug, id string) (Order, bool, error) {
	o, found, err := GetOrder(ctx, f.st, slug, id)
	if err != nil || !found {
		return Order{}, found, err
	}
	if o.Fulfilled {
		keys, _, err := f.licenseKeys(ctx, o, nil)
		if err != nil {
			return Order{}, false, err
		}
		fill(&o, keys)
	}
	return o, true, nil
}

// PricedLines prices lines from the store's listing: the order's items.
func PricedLines(l Listing, currency string, lines []Line) []OrderItem {
	items := make([]OrderItem, len(lines))
	for i, ln := range lines {
		items[i] = OrderItem{SKU: ln.SKU, Quantity: ln.Quantity}
		if p, ok := l.Products[ln.SKU].Prices[currency]; ok {
			items[i].UnitPriceMinor = &p
		}
	}
	return items
}

// KeyAndReference reads, in one BatchGetItem, whether key is a valid key
// of store slug and, when ref is set, whether an order with that external
// reference is paid (fulfilled through the licensing API, or paid through
// the checkout).
func KeyAndReference(ctx context.Context, st dynamo.Store, slug, key, ref string) (keyOK, paid bool, err error) {
	keys := []dynamo.Key{dynamo.PKSK(apiKeyPK(apikey.Of(key)), skAPIKey)}
	if ref != "" {
		keys = append(keys, OrderKey(slug, OrderID(slug, ref)), paidRefKey(slug, ref))
	}
	got, err := batchGet(ctx, st.DB, map[string]types.KeysAndAttributes{st.Tables.Stores: {Keys: keys, ConsistentRead: aws.Bool(true)}})
	if err != nil {
		return false, false, fmt.Errorf("read key and reference of %s: %w", slug, err)
	}
	for _, item := range got[st.Tables.Stores] {
		switch dynamo.StringAttr(item[dynamo.AttrSK]) {
		case skAPIKey:
			keyOK = keyValid(item, slug, key)
		case skOrderRef:
			paid = true
		case skOrder:
			if o, err := orderFromItem(item); err == nil && o.Fulfilled {
				paid = true
			}
		}
	}
	return keyOK, paid, nil
}

// GetOrder reads order id of store slug without its keys (found false: no
// such order).
func GetOrder(ctx context.Context, st dynamo.Store, slug, id string) (Order, bool, error) {
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Tables.Stores), Key: OrderKey(slug, id),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Order{}, false, fmt.Errorf("read order %s of %s: %w", id, slug, err)
	}
	if len(out.Item) == 0 {
		return Order{}, false, nil
	}
	o, err := orderFromItem(out.Item)
	return o, err == nil, err
}
