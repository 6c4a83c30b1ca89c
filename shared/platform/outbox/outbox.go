// Package outbox owns the OutboxTable: the events Tollgate owes a merchant's
// or a store's notification URL (order.fulfilled, a payment's state
// change, ...). An event is written by the same TransactWriteItems as the
// effect it reports (EnqueueOp), so an effect never happens without its
// event and an event never exists without its effect; the outbound webhook
// delivery sends it afterwards, signed, at least once.
//
// Item layout: pk = dynamo.Tuple("event", ID); recipient, type, payload
// (JSON), createdAt; status "pending" and, while pending, duePk =
// dynamo.Tuple("due", shard) and dueAt (unix milliseconds) for the sparse
// index "due" the delivery reads. The shard (DueShards of them, from the
// event's id) spreads the index's writes: one partition key would take
// every event of the stack and top out near 1,000 writes a second.
// An event with an ordering key also holds orderingKey and orderSeq
// (createdAt in nanoseconds, 19 digits, "#", id) for the index
// "ordered": the events of one key, oldest first, so the delivery holds an
// event back while an earlier one of its key is pending (blockedBy names
// the event it waits for).
//
// Every event also holds recipientPk = dynamo.Tuple("recipient", recipient,
// yyyy-mm-dd, shard) and recipientSk (creation, id) for the sparse index
// "recipient" (a dynamo.Timeline): a recipient's events newest first, over
// RecipientShards partitions a day, so a busy store's events never share
// one partition (Recent). A dead or undeliverable event stays in the index
// "due" under duePk = dynamo.Tuple("dead", recipient), dueAt = when it
// died: a recipient's failures are one Query (Undelivered), and Due, which
// reads only the "due" partitions, never sees them. Replay puts it back.
package outbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Attribute names and values of an outbox item.
const (
	attrRecipient = "recipient"
	attrType      = "type"
	attrPayload   = "payload"
	attrCreatedAt = "createdAt"
	attrStatus    = "status"
	attrAttempts  = "attempts"
	attrDuePK     = "duePk"
	attrDueAt     = "dueAt"
	attrOrderKey  = "orderingKey"
	attrOrderSeq  = "orderSeq"
	attrBlockedBy = "blockedBy"

	// IndexDue is the sparse index of pending events by due time.
	IndexDue = "due"
	// IndexOrdered is the sparse index of the events that have an ordering
	// key, by key and creation.
	IndexOrdered = "ordered"
	// StatusPending is an event not yet delivered.
	StatusPending = "pending"
	// DueShards is how many partitions the due index spreads over; Due
	// reads them all.
	DueShards = 64
)

// duePK is the due index's partition key of event id.
func duePK(id string) string {
	sum := dynamo.FingerprintSum(id)
	return dynamo.Tuple("due", fmt.Sprint(int(sum[0])%DueShards))
}

// Event is one notification owed to a recipient.
type Event struct {
	// ID names the effect the event reports (e.g. "store:my-store:order:ORD-ABC123:fulfilled"):
	// the same effect enqueues the same id, which the write refuses twice.
	ID string
	// Recipient is whose notification URL receives it, e.g.
	// dynamo.Tuple("store", slug) or dynamo.Tuple("merchant", id).
	Recipient string
	Type      string          // e.g. "order.fulfilled"
	Payload   json.RawMessage // the event's data, as it will be sent
	At        time.Time       // when the effect happened; the event is due then
	// OrderingKey ("" none) puts the event in a sequence: it is not
	// delivered while an earlier event (by At, then ID) of the same key is
	// pending. A store's order events use the order, a payment's events the
	// transaction.
	OrderingKey string
}

// ErrInvalid is the reason of an event that cannot be enqueued.
var ErrInvalid = errors.New("outbox: invalid event")

// Key is the partition key of event id.
func Key(id string) string { return dynamo.Tuple("event", id) }

// IDOfKey is the event id of partition key pk (a stream record's key);
// ok false when pk is not an event's.
func IDOfKey(pk string) (string, bool) {
	parts, err := dynamo.SplitTuple(pk)
	if err != nil || len(parts) != 2 || parts[0] != "event" {
		return "", false
	}
	return parts[1], true
}

// EnqueueOp is the transaction item that records e as pending, conditional
// on no event with its id existing: put it in the transaction of the effect
// e reports.
func EnqueueOp(table string, e Event) (types.TransactWriteItem, error) {
	switch {
	case e.ID == "" || e.Recipient == "" || e.Type == "":
		return types.TransactWriteItem{}, fmt.Errorf("%w: id, recipient and type are required", ErrInvalid)
	case !json.Valid(e.Payload):
		return types.TransactWriteItem{}, fmt.Errorf("%w: payload of %s is not JSON", ErrInvalid, e.ID)
	case e.At.IsZero() || e.At.Before(time.Unix(0, 0)):
		return types.TransactWriteItem{}, fmt.Errorf("%w: %s has no time", ErrInvalid, e.ID)
	}
	item := map[string]types.AttributeValue{
		dynamo.AttrPK: dynamo.S(Key(e.ID)),
		attrRecipient: dynamo.S(e.Recipient),
		attrType:      dynamo.S(e.Type),
		attrPayload:   dynamo.S(string(e.Payload)),
		attrCreatedAt: dynamo.Time(e.At),
		attrStatus:    dynamo.S(StatusPending),
		attrAttempts:  dynamo.N(0),
		attrDuePK:     dynamo.S(duePK(e.ID)),
		attrDueAt:     dynamo.N(e.At.UnixMilli()),
	}
	if e.OrderingKey != "" {
		item[attrOrderKey] = dynamo.S(e.OrderingKey)
		item[attrOrderSeq] = dynamo.S(e.seq())
	}
	for k, v := range recipientTimeline("").Attrs([]string{"recipient", e.Recipient}, e.ID, e.At) {
		item[k] = v
	}
	return dynamo.PutNewOp(table, item), nil
}

// seq is e's place in its ordering key's sequence: creation time, then id
// (events of one transaction share a time). The fixed-width time is a
// fixed-length prefix, so the id needs no encoding and ids compare as
// themselves.
func (e Event) seq() string { return fmt.Sprintf("%019d#%s", e.At.UnixNano(), e.ID) }

// Stored is an event as the table holds it.
type Stored struct {
	Event
	Status     string
	Attempts   int64
	LastError  string    // the last failed attempt's reason
	WindowFrom time.Time // the last replay, zero if none
	DueAt      time.Time // when a pending event is next due (zero otherwise)
	BlockedBy  string    // the earlier event of its ordering key a pending event waits for
	// SendingAt is when an attempt through a service without idempotency
	// keys began and recorded no outcome (zero: none): it may have sent.
	SendingAt time.Time
	SentRef   string // the service's id of what was sent (SES MessageId), once delivered
	orderSeq  string // its place among its ordering key's events, as stored
}

// FromItem reads an outbox item.
func FromItem(item map[string]types.AttributeValue) (Stored, error) {
	parts, err := dynamo.SplitTuple(dynamo.StringAttr(item[dynamo.AttrPK]))
	if err != nil || len(parts) != 2 || parts[0] != "event" {
		return Stored{}, fmt.Errorf("outbox: item %q is not an event", dynamo.StringAttr(item[dynamo.AttrPK]))
	}
	at, err := dynamo.TimeAttr(item[attrCreatedAt])
	if err != nil {
		return Stored{}, fmt.Errorf("outbox: event %s: createdAt: %w", parts[1], err)
	}
	attempts, err := dynamo.IntAttr(item[attrAttempts])
	if err != nil {
		return Stored{}, fmt.Errorf("outbox: event %s: attempts: %w", parts[1], err)
	}
	s := Stored{
		Event: Event{ID: parts[1], Recipient: dynamo.StringAttr(item[attrRecipient]), Type: dynamo.StringAttr(item[attrType]),
			Payload: json.RawMessage(dynamo.StringAttr(item[attrPayload])), At: at, OrderingKey: dynamo.StringAttr(item[attrOrderKey])},
		Status: dynamo.StringAttr(item[attrStatus]), Attempts: attempts, LastError: dynamo.StringAttr(item[attrLastError]),
		BlockedBy: dynamo.StringAttr(item[attrBlockedBy]), orderSeq: dynamo.StringAttr(item[attrOrderSeq]),
	}
	if item[attrDueAt] != nil && s.Status == StatusPending { // a dead event's dueAt is when it died (deadPK)
		ms, err := dynamo.IntAttr(item[attrDueAt])
		if err != nil {
			return Stored{}, fmt.Errorf("outbox: event %s: dueAt: %w", parts[1], err)
		}
		s.DueAt = time.UnixMilli(ms).UTC()
	}
	s.SentRef = dynamo.StringAttr(item[attrSentRef])
	if item[attrSendingAt] != nil {
		if s.SendingAt, err = dynamo.TimeAttr(item[attrSendingAt]); err != nil {
			return Stored{}, fmt.Errorf("outbox: event %s: sendingAt: %w", parts[1], err)
		}
	}
	if item[attrWindowFrom] != nil {
		if s.WindowFrom, err = dynamo.TimeAttr(item[attrWindowFrom]); err != nil {
			return Stored{}, fmt.Errorf("outbox: event %s: windowFrom: %w", parts[1], err)
		}
	}
	return s, nil
}

// IndexRecipient is the index of a recipient's events by creation
// (Recent).
const (
	IndexRecipient    = "recipient"
	attrRecipientPK   = "recipientPk"
	attrRecipientSK   = "recipientSk"
	RecipientShards   = 8
	deadPartitionKind = "dead"
)

func recipientTimeline(table string) dynamo.Timeline {
	return dynamo.Timeline{Table: table, Index: IndexRecipient, PKAttr: attrRecipientPK, SKAttr: attrRecipientSK, Shards: RecipientShards}
}

// deadPK is the partition of the due index holding recipient's dead and
// undeliverable events.
func deadPK(recipient string) string { return dynamo.Tuple(deadPartitionKind, recipient) }
