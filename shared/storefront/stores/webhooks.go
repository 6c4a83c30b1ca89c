package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// ErrNoEvent: no event of this store has that id (a 404, whether or not
// another store's has).
var ErrNoEvent = errors.New("stores: no such event")

// Delivery is one event owed to a store's webhook URL, as the portal
// lists it.
type Delivery struct {
	EventID, Type string
	OrderID       string // "" for an event of no order (product.low_stock)
	Status        string // outbox.StatusPending, StatusDelivered, StatusDead or StatusUndeliverable
	Attempts      int64
	LastError     string    // the last failed attempt's reason
	CreatedAt     time.Time // when the effect happened
	NextTry       time.Time // a pending event's next attempt (zero otherwise)
}

// DeliveryPage is a page of deliveries, newest first, and the cursor of
// the next ("" none).
type DeliveryPage struct {
	Deliveries []Delivery
	Cursor     string
}

// DeliveryOf reads what the portal shows of outbox event ev.
func DeliveryOf(ev outbox.Stored) Delivery {
	var p struct {
		OrderID string `json:"order_id"`
	}
	_ = json.Unmarshal(ev.Payload, &p) // an event without an order shows none
	d := Delivery{EventID: ev.ID, Type: ev.Type, OrderID: p.OrderID, Status: ev.Status, Attempts: ev.Attempts, LastError: ev.LastError, CreatedAt: ev.At}
	if ev.Status == outbox.StatusPending {
		d.NextTry = ev.DueAt
	}
	return d
}

func recipientOf(slug string) string { return dynamo.Tuple(RecipientKind, slug) }

// Deliveries lists store slug's webhook events newest first, limit a page
// (the outbox's recipient index: outbox.RecipientShards calls per day
// walked, at most MaxDaysPerPage days a page).
func Deliveries(ctx context.Context, st dynamo.Store, slug, cursor string, limit int, now time.Time) (DeliveryPage, error) {
	p, err := outbox.Box{DB: st.DB, Table: st.Tables.Outbox}.Recent(ctx, recipientOf(slug), cursor, limit, MaxDaysPerPage, now)
	if errors.Is(err, outbox.ErrBadCursor) {
		return DeliveryPage{}, refusal.New(ErrBadCursor, "the page cursor is not one this list made")
	}
	if err != nil {
		return DeliveryPage{}, err
	}
	out := DeliveryPage{Cursor: p.Cursor, Deliveries: make([]Delivery, 0, len(p.Events))}
	for _, ev := range p.Events {
		out.Deliveries = append(out.Deliveries, DeliveryOf(ev))
	}
	return out, nil
}

// FailedDeliveries lists store slug's dead and undeliverable webhook
// events, the last to fail first, up to limit: one Query.
func FailedDeliveries(ctx context.Context, st dynamo.Store, slug string, limit int) ([]Delivery, error) {
	evs, err := outbox.Box{DB: st.DB, Table: st.Tables.Outbox}.Undelivered(ctx, recipientOf(slug), limit)
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(evs))
	for _, ev := range evs {
		out = append(out, DeliveryOf(ev))
	}
	return out, nil
}

// ReplayDelivery makes store slug's event id due now with a fresh retry
// window (outbox.Replay), with audit in the same transaction. An id that
// is not one of the store's events is ErrNoEvent.
func ReplayDelivery(ctx context.Context, st dynamo.Store, slug, id string, audit types.TransactWriteItem, now time.Time) error {
	err := st.Transact(ctx, []types.TransactWriteItem{outbox.ReplayOp(st.Tables.Outbox, id, recipientOf(slug), now), audit})
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) && failed.Failed(0) {
		return refusal.New(ErrNoEvent, "store %q has no event %q", slug, id)
	}
	if err != nil {
		return fmt.Errorf("replay %s of %s: %w", id, slug, err)
	}
	return nil
}

// MaxReplay is how many failed events one ReplayFailed replays (the
// oldest wait for the next).
const MaxReplay = 500

// ReplayFailed replays every dead or undeliverable webhook event of store
// slug (up to MaxReplay), 99 a transaction with audit. It answers how many
// it replayed.
func ReplayFailed(ctx context.Context, st dynamo.Store, slug string, audit types.TransactWriteItem, now time.Time) (int, error) {
	evs, err := outbox.Box{DB: st.DB, Table: st.Tables.Outbox}.Undelivered(ctx, recipientOf(slug), MaxReplay)
	if err != nil {
		return 0, err
	}
	n := 0
	for len(evs) > 0 {
		batch := evs[:min(len(evs), 99)]
		evs = evs[len(batch):]
		ops := make([]types.TransactWriteItem, 0, len(batch)+1)
		for _, ev := range batch {
			ops = append(ops, outbox.ReplayOp(st.Tables.Outbox, ev.ID, recipientOf(slug), now))
		}
		if err := st.Transact(ctx, append(ops, audit)); err != nil {
			return n, fmt.Errorf("replay the failed events of %s: %w", slug, err)
		}
		n += len(batch)
	}
	return n, nil
}
