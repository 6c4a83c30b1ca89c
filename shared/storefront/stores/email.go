package stores

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

// The buyer's emails: an outbox event each, written in the transaction of
// the effect it reports (a fulfilment, a refund), delivered by the
// dispatcher's email courier (docs/email.md). The event holds neither the
// keys nor the address: the courier reads the order when it sends, so
// license keys are never copied out of the pool's rows.

// EmailKind is the kind of outbox recipient of a store's buyer emails:
// dynamo.Tuple(EmailKind, slug).
const EmailKind = "email"

// Email event types.
const (
	EmailReceipt = "email.receipt" // the order is fulfilled: its keys
	EmailRefund  = "email.refund"  // the order is refunded: its keys are revoked
)

// Email is an email event's payload.
type Email struct {
	Store         string `json:"store"`
	OrderID       string `json:"order_id"`
	RefundedMinor int64  `json:"refunded_minor,omitempty"`
}

// EmailOps are the outbox items of email typ of order o (suffix tells
// apart emails of one type: a refund's running total): none when o has no
// buyer address. Append them to the transaction of the effect.
func EmailOps(outboxTable string, o Order, typ, suffix string, at time.Time) ([]types.TransactWriteItem, error) {
	if o.CustomerEmail == "" {
		return nil, nil
	}
	id := "email:store:" + o.Store + ":order:" + o.ID + ":" + typ
	if suffix != "" {
		id += ":" + suffix
	}
	js, _ := json.Marshal(Email{Store: o.Store, OrderID: o.ID, RefundedMinor: o.RefundedMinor}) // plain values: cannot fail
	// Its own ordering key: a buyer's emails keep their order (the receipt
	// before a refund's notice) and never wait on the store's webhooks.
	op, err := outbox.EnqueueOp(outboxTable, outbox.Event{ID: id, Recipient: dynamo.Tuple(EmailKind, o.Store), Type: typ, Payload: js, At: at,
		OrderingKey: dynamo.Tuple(EmailKind, o.Store, o.ID)})
	if err != nil {
		return nil, err
	}
	return []types.TransactWriteItem{op}, nil
}

// ParseEmail reads an email event's payload.
func ParseEmail(ev outbox.Stored) (Email, error) {
	var e Email
	if err := json.Unmarshal(ev.Payload, &e); err != nil || !ValidSlug(e.Store) || !ValidOrderID(e.OrderID) {
		return Email{}, fmt.Errorf("stores: event %s is not an email of an order", ev.ID)
	}
	return e, nil
}

// EmailOrder reads what an email of order id of store slug needs: the
// order with its keys (none once revoked or before fulfilment) and its
// store (name, support address, product names). found false: no such
// order or store.
func EmailOrder(ctx context.Context, st dynamo.Store, slug, id string, now func() time.Time) (Order, Listing, bool, error) {
	l, err := ReadListing(ctx, st.DB, st.Tables.Stores, slug)
	if err != nil || !l.Found {
		return Order{}, Listing{}, false, err
	}
	o, found, err := NewFulfiller(st, now, Options{}).ReadOrder(ctx, slug, id)
	if err != nil || !found {
		return Order{}, Listing{}, false, err
	}
	if o.KeysRevoked {
		for i := range o.Items {
			o.Items[i].LicenseKeys = nil
		}
	}
	return o, l, true, nil
}
