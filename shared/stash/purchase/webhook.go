package purchase

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

// Settings of the webhook receiver, read from the function's environment.
const (
	EnvGrantMode   = "GRANT_MODE"          // confirm, webhook or both (default both)
	EnvEnvironment = "WEBHOOK_ENVIRONMENT" // test or production (default test)
	EnvRecordTTL   = "WEBHOOK_RECORD_TTL"  // how long delivery records are kept (default 720h)
)

// Grant modes.
const (
	GrantByConfirm = "confirm" // webhooks record purchases; the confirm call grants
	GrantByWebhook = "webhook" // PURCHASE_SUCCEEDED grants
	GrantByBoth    = "both"    // either grants, whichever comes first; never both
)

// Delivery outcomes, as recorded and answered.
const (
	OutcomeGranted    = "granted"
	OutcomeDuplicate  = "duplicate"
	OutcomeRecorded   = "recorded"
	OutcomeNotGranted = "not-granted"
	OutcomeRefund     = "refund:" // followed by the refund's outcome
	OutcomeAcked      = "acknowledged"
	OutcomeOtherEnv   = "ignored-environment"
	OutcomeRejected   = "rejected"
	OutcomeFailed     = "failed"
)

const (
	defaultRecordTTL   = 30 * 24 * time.Hour
	maxRecordedBodyLen = 64 << 10
)

// Webhooks acts on Stash's webhook deliveries: PURCHASE_SUCCEEDED grants the
// purchase (once per order, through the same purchase record as the confirm
// call, so a studio granting from both never grants twice), PURCHASE_REFUNDED
// revokes (once per refund), every other event is acknowledged; every
// delivery is recorded, with a TTL, for reconciliation.
type Webhooks struct {
	svc       *Service
	mode      string
	env       string
	recordTTL time.Duration
}

// NewWebhooks builds the webhook receiver of a function from its
// dependencies.
func NewWebhooks(d deps.Deps) (*Webhooks, error) {
	svc, err := New(d)
	if err != nil {
		return nil, err
	}
	w := &Webhooks{svc: svc}
	if w.mode, err = d.OneOf(EnvGrantMode, GrantByBoth, GrantByConfirm, GrantByWebhook, GrantByBoth); err != nil {
		return nil, err
	}
	if w.env, err = d.OneOf(EnvEnvironment, "test", "test", "production"); err != nil {
		return nil, err
	}
	if w.recordTTL, err = d.Duration(EnvRecordTTL, defaultRecordTTL); err != nil {
		return nil, err
	}
	return w, nil
}

// delivery is what is recorded of one delivery.
type delivery struct {
	Type, Environment, OrderID, RefundID, Outcome, Message string
	Retry                                                  int
	Body                                                   []byte // kept only when the delivery failed
}

// Receive acts on one verified delivery (body as received; retry is
// Stash's retry count) and records it. It returns the outcome for a
// delivery processed, duplicate or ignored; a refusal (ErrMalformedEvent)
// for a body that cannot be decoded, which no retry will cure; any other
// error when a retry could succeed.
func (w *Webhooks) Receive(ctx context.Context, body []byte, retry int) (string, error) {
	d := delivery{Retry: retry}
	err := w.process(ctx, body, &d)
	if err != nil {
		d.Body = body
	}
	w.record(ctx, d)
	return d.Outcome, err
}

func (w *Webhooks) process(ctx context.Context, body []byte, d *delivery) error {
	ev, err := stashapi.DecodeWebhook(body)
	if err != nil {
		return w.malformed(ctx, d, err)
	}
	d.Type, d.Environment = ev.Type, ev.Environment
	if ev.Environment != "" && (ev.Environment == "test") != (w.env == "test") {
		d.Outcome, d.Message = OutcomeOtherEnv, "this deployment accepts "+w.env+" events"
		return nil
	}
	switch ev.Type {
	case stashapi.EventPurchaseSucceeded:
		e, err := stashapi.DecodePurchaseSucceeded(ev.Data)
		if err != nil {
			return w.malformed(ctx, d, err)
		}
		d.OrderID = e.OrderID
		if w.mode == GrantByConfirm {
			d.Outcome = OutcomeRecorded
			return nil
		}
		return w.grant(ctx, e, d)
	case stashapi.EventPurchaseRefunded:
		e, err := stashapi.DecodePurchaseRefunded(ev.Data)
		if err != nil {
			return w.malformed(ctx, d, err)
		}
		d.OrderID, d.RefundID = e.OrderID, e.RefundID
		return w.refund(ctx, e, ev.Data, d)
	}
	d.Outcome = OutcomeAcked
	return nil
}

func (w *Webhooks) malformed(ctx context.Context, d *delivery, err error) error {
	d.Outcome, d.Message = OutcomeRejected, err.Error()
	// Stash retries a 400 for a day: say so loudly.
	w.svc.Log.ErrorContext(ctx, "malformed webhook delivery", "type", d.Type, "retry", d.Retry, "error", err)
	return &refusal.Error{Reason: ErrMalformedEvent, Message: err.Error()}
}

// grant treats PURCHASE_SUCCEEDED as the confirm of transaction orderId.
func (w *Webhooks) grant(ctx context.Context, e stashapi.PurchaseSucceeded, d *delivery) error {
	req := stashapi.ConfirmRequest{
		Purchase: stashapi.Purchase{PlayerID: e.UserID, TransactionID: e.OrderID, CheckoutLinkID: e.CheckoutLinkID, Currency: e.Currency},
		Tax:      e.Tax, Total: e.Total, TimeMillis: e.TimeMillis, EmailMarketingOptIn: e.EmailMarketingOptIn,
	}
	for _, it := range e.Items {
		req.Items = append(req.Items, stashapi.Line{ProductID: it.ID, Quantity: it.Quantity, Cents: it.Price})
	}
	_, granted, err := w.svc.Confirm(ctx, req, ViaWebhook)
	var refused *refusal.Error
	switch {
	case err == nil && granted:
		d.Outcome = OutcomeGranted
	case err == nil, errors.Is(err, ErrAlreadyConfirmed):
		d.Outcome = OutcomeDuplicate // this delivery again, or the confirm call granted first
	case errors.As(err, &refused):
		// Retrying cannot change it: acknowledge, record, shout.
		d.Outcome, d.Message = OutcomeNotGranted, refused.Message
		w.svc.Log.ErrorContext(ctx, "paid purchase not granted; needs reconciliation", "orderId", e.OrderID, "playerId", e.UserID, "reason", refused.Message)
	default:
		d.Outcome, d.Message = OutcomeFailed, err.Error()
		w.svc.Log.Log(ctx, failure.Level(ctx, err), "webhook grant failed; Stash will retry", "orderId", e.OrderID, "error", err)
		return err
	}
	return nil
}

func (w *Webhooks) refund(ctx context.Context, e stashapi.PurchaseRefunded, data []byte, d *delivery) error {
	r := Refund{OrderID: e.OrderID, PlayerID: e.UserID, Key: webhookRefundKey(e.RefundID, data)}
	if !e.Full {
		for _, it := range e.Items {
			r.Items = append(r.Items, players.Item{ProductID: it.ID, Quantity: it.Quantity})
		}
	}
	res, err := w.svc.Refund(ctx, r)
	if err != nil {
		d.Outcome, d.Message = OutcomeFailed, err.Error()
		w.svc.Log.Log(ctx, failure.Level(ctx, err), "refund failed; Stash will retry", "orderId", e.OrderID, "error", err)
		return err
	}
	d.Outcome = OutcomeRefund + res.Outcome
	return nil
}

// webhookRefundKey identifies a refund among its order's refunds: its
// refundId, or, when the event carries none, a digest of the event's data
// (a retried delivery carries the same data, another refund of the order
// different data).
// The kind of key is a part of its own (dynamo.Tuple), so a refundId that
// looks like a digest cannot pose as one.
func webhookRefundKey(refundID string, data []byte) string {
	if refundID != "" {
		return dynamo.Tuple("id", refundID)
	}
	sum := sha256.Sum256(data)
	return dynamo.Tuple("data", hex.EncodeToString(sum[:12]))
}

// record keeps the delivery (with a TTL) for reconciliation. It never
// changes the answer: a delivery processed but not recorded is logged.
func (w *Webhooks) record(ctx context.Context, d delivery) {
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	now := w.svc.Now()
	item := map[string]types.AttributeValue{
		dynamo.AttrPK:        dynamo.S("delivery#" + now.UTC().Format("20060102T150405.000Z") + "#" + hex.EncodeToString(id)),
		attrKind:             dynamo.S(kindDelivery),
		attrOutcome:          dynamo.S(d.Outcome),
		attrRetryCount:       dynamo.N(int64(d.Retry)),
		attrReceivedAt:       dynamo.Time(now),
		dynamo.AttrExpiresAt: dynamo.N(now.Add(w.recordTTL).Unix()),
	}
	for k, v := range map[string]string{attrType: d.Type, attrEnvironment: d.Environment, attrOrderID: d.OrderID, attrRefundID: d.RefundID, attrMessage: d.Message} {
		if v != "" {
			item[k] = dynamo.S(v)
		}
	}
	if len(d.Body) > 0 {
		item[attrRawBody] = dynamo.B(d.Body[:min(len(d.Body), maxRecordedBodyLen)])
	}
	if _, err := w.svc.Store.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(w.svc.Store.Tables.Transactions), Item: item}); err != nil {
		w.svc.Log.Log(ctx, failure.Level(ctx, err), "webhook delivery not recorded", "type", d.Type, "orderId", d.OrderID, "outcome", d.Outcome, "error", fmt.Errorf("put delivery: %w", err))
	}
}
