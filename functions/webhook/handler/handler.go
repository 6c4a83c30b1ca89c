// Package handler implements Stash's webhook receiver,
// POST /api/v1/webhooks/stash: PURCHASE_SUCCEEDED grants the purchase (once
// per order, through the same purchase record as the confirm call, so a
// studio granting from both never grants twice), PURCHASE_REFUNDED revokes
// (once per refund), every other event is acknowledged; every delivery is
// recorded for reconciliation.
package handler

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/auth"
	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/httpx"
	"github.com/tollgate-dev/tollgate/shared/inventory"
	"github.com/tollgate-dev/tollgate/shared/purchase"
	"github.com/tollgate-dev/tollgate/shared/stashapi"
	"github.com/tollgate-dev/tollgate/shared/store"
)

// Settings read from the environment.
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

// Delivery outcomes, as recorded.
const (
	outcomeGranted     = "granted"
	outcomeDuplicate   = "duplicate"
	outcomeRecorded    = "recorded"
	outcomeNotGranted  = "not-granted"
	outcomeRefund      = "refund:"
	outcomeAcked       = "acknowledged"
	outcomeOtherEnv    = "ignored-environment"
	outcomeRejected    = "rejected"
	outcomeFailed      = "failed"
	defaultRecordTTL   = 30 * 24 * time.Hour
	headerRetryCount   = "stash-retry-count"
	maxRecordedBodyLen = 64 << 10
)

// Handler serves POST /api/v1/webhooks/stash.
type Handler struct {
	svc       *purchase.Service
	verify    auth.StashWebhooks
	mode      string
	env       string
	recordTTL time.Duration
	store     store.Store
	log       *slog.Logger
	now       func() time.Time
}

// New builds the handler from its dependencies.
func New(d deps.Deps) (http.Handler, error) {
	svc, err := purchase.FromDeps(d)
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: svc, verify: auth.StashWebhooks{Keys: auth.Keys{Source: d.Secrets}}, mode: GrantByBoth, env: "test",
		recordTTL: defaultRecordTTL, store: d.Store, log: d.Logger, now: d.Now}
	switch v := d.Getenv(EnvGrantMode); v {
	case "":
	case GrantByConfirm, GrantByWebhook, GrantByBoth:
		h.mode = v
	default:
		return nil, fmt.Errorf("%s=%q: want confirm, webhook or both", EnvGrantMode, v)
	}
	switch v := d.Getenv(EnvEnvironment); v {
	case "":
	case "test", "production":
		h.env = v
	default:
		return nil, fmt.Errorf("%s=%q: want test or production", EnvEnvironment, v)
	}
	if v := d.Getenv(EnvRecordTTL); v != "" {
		if h.recordTTL, err = time.ParseDuration(v); err != nil || h.recordTTL <= 0 {
			return nil, fmt.Errorf("%s=%q: want a positive Go duration", EnvRecordTTL, v)
		}
	}
	if h.mode != GrantByConfirm {
		svc.Warm(context.Background())
	}
	return h, nil
}

// delivery is what is recorded of one delivery.
type delivery struct {
	Type, Environment, OrderID, RefundID, Outcome, Message string
	Retry                                                  int
	Body                                                   []byte // kept only when the delivery failed
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := httpx.ReadBody(r, stashapi.WebhookBodyLimit)
	if err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	if err := h.verify.Verify(ctx, r.Header, body); err != nil {
		if errors.Is(err, auth.ErrUnauthorized) {
			h.log.WarnContext(ctx, "webhook signature refused", "reason", err.Error())
			httpx.WriteError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		h.log.ErrorContext(ctx, "webhook secret unavailable", "error", err)
		httpx.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable; retry")
		return
	}
	d := delivery{}
	d.Retry, _ = strconv.Atoi(r.Header.Get(headerRetryCount))
	status, msg := h.process(ctx, body, &d)
	if status != http.StatusOK {
		d.Body = body
	}
	h.record(ctx, d)
	if status == http.StatusOK {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": d.Outcome})
		return
	}
	httpx.WriteError(w, status, msg)
}

// process acts on a verified delivery and fills d. It returns 200 for
// processed, duplicate and ignored deliveries; 400 for a malformed body;
// 503 only when a retry could succeed.
func (h *Handler) process(ctx context.Context, body []byte, d *delivery) (int, string) {
	ev, err := stashapi.DecodeWebhook(body)
	if err != nil {
		return h.malformed(ctx, d, err)
	}
	d.Type, d.Environment = ev.Type, ev.Environment
	if ev.Environment != "" && (ev.Environment == "test") != (h.env == "test") {
		d.Outcome, d.Message = outcomeOtherEnv, "this deployment accepts "+h.env+" events"
		return http.StatusOK, ""
	}
	switch ev.Type {
	case stashapi.EventPurchaseSucceeded:
		e, err := stashapi.DecodePurchaseSucceeded(ev.Data)
		if err != nil {
			return h.malformed(ctx, d, err)
		}
		d.OrderID = e.OrderID
		if h.mode == GrantByConfirm {
			d.Outcome = outcomeRecorded
			return http.StatusOK, ""
		}
		return h.grant(ctx, e, d)
	case stashapi.EventPurchaseRefunded:
		e, err := stashapi.DecodePurchaseRefunded(ev.Data)
		if err != nil {
			return h.malformed(ctx, d, err)
		}
		d.OrderID, d.RefundID = e.OrderID, e.RefundID
		return h.refund(ctx, e, ev, d)
	}
	d.Outcome = outcomeAcked
	return http.StatusOK, ""
}

func (h *Handler) malformed(ctx context.Context, d *delivery, err error) (int, string) {
	d.Outcome, d.Message = outcomeRejected, err.Error()
	// Stash retries a 400 for a day: say so loudly.
	h.log.ErrorContext(ctx, "malformed webhook delivery", "type", d.Type, "retry", d.Retry, "error", err)
	return http.StatusBadRequest, err.Error()
}

// grant treats PURCHASE_SUCCEEDED as the confirm of transaction orderId.
func (h *Handler) grant(ctx context.Context, e stashapi.PurchaseSucceeded, d *delivery) (int, string) {
	req := stashapi.ConfirmRequest{
		Purchase: stashapi.Purchase{PlayerID: e.UserID, TransactionID: e.OrderID, CheckoutLinkID: e.CheckoutLinkID, Currency: e.Currency},
		Tax:      e.Tax, Total: e.Total, TimeMillis: e.TimeMillis, EmailMarketingOptIn: e.EmailMarketingOptIn,
	}
	for _, it := range e.Items {
		req.Items = append(req.Items, stashapi.Line{ProductID: it.ID, Quantity: it.Quantity, Cents: it.Price})
	}
	_, granted, err := h.svc.ConfirmOnce(purchase.WithVia(ctx, "webhook"), req)
	var refusal *httpx.StatusError
	switch {
	case err == nil && granted:
		d.Outcome = outcomeGranted
	case err == nil, errors.As(err, &refusal) && refusal.Code == httpx.CodeAlreadyExists:
		d.Outcome = outcomeDuplicate // this delivery again, or the confirm call granted first
	case errors.As(err, &refusal):
		// Retrying cannot change it: acknowledge, record, shout.
		d.Outcome, d.Message = outcomeNotGranted, refusal.Message
		h.log.ErrorContext(ctx, "paid purchase not granted; needs reconciliation", "orderId", e.OrderID, "playerId", e.UserID, "reason", refusal.Message)
	default:
		d.Outcome, d.Message = outcomeFailed, err.Error()
		h.log.ErrorContext(ctx, "webhook grant failed; Stash will retry", "orderId", e.OrderID, "error", err)
		return http.StatusServiceUnavailable, "temporarily unavailable; retry"
	}
	return http.StatusOK, ""
}

func (h *Handler) refund(ctx context.Context, e stashapi.PurchaseRefunded, ev stashapi.WebhookEvent, d *delivery) (int, string) {
	key := e.RefundID
	if key == "" {
		// No refund id: a retried delivery carries the same data, another
		// refund of the order different data.
		sum := sha256.Sum256(ev.Data)
		key = "data-" + hex.EncodeToString(sum[:12])
	}
	r := purchase.Refund{OrderID: e.OrderID, PlayerID: e.UserID, Key: key}
	if !e.Full {
		for _, it := range e.Items {
			r.Items = append(r.Items, inventory.Item{ProductID: it.ID, Quantity: it.Quantity})
		}
	}
	res, err := h.svc.Refund(ctx, r)
	if err != nil {
		d.Outcome, d.Message = outcomeFailed, err.Error()
		h.log.ErrorContext(ctx, "refund failed; Stash will retry", "orderId", e.OrderID, "error", err)
		return http.StatusServiceUnavailable, "temporarily unavailable; retry"
	}
	d.Outcome = outcomeRefund + res.Outcome
	return http.StatusOK, ""
}

// record keeps the delivery (with a TTL) for reconciliation. It never
// changes the answer: a delivery processed but not recorded is logged.
func (h *Handler) record(ctx context.Context, d delivery) {
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	now := h.now()
	item := map[string]types.AttributeValue{
		store.AttrPK:        &types.AttributeValueMemberS{Value: "delivery#" + now.UTC().Format("20060102T150405.000Z") + "#" + hex.EncodeToString(id)},
		"kind":              &types.AttributeValueMemberS{Value: "webhook-delivery"},
		"outcome":           &types.AttributeValueMemberS{Value: d.Outcome},
		"retryCount":        &types.AttributeValueMemberN{Value: strconv.Itoa(d.Retry)},
		"receivedAt":        &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
		store.AttrExpiresAt: &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(h.recordTTL).Unix(), 10)},
	}
	for k, v := range map[string]string{"type": d.Type, "environment": d.Environment, "orderId": d.OrderID, "refundId": d.RefundID, "message": d.Message} {
		if v != "" {
			item[k] = &types.AttributeValueMemberS{Value: v}
		}
	}
	if len(d.Body) > 0 {
		item["rawBody"] = &types.AttributeValueMemberB{Value: d.Body[:min(len(d.Body), maxRecordedBodyLen)]}
	}
	if _, err := h.store.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(h.store.Tables.Transactions), Item: item}); err != nil {
		h.log.ErrorContext(ctx, "webhook delivery not recorded", "type", d.Type, "orderId", d.OrderID, "outcome", d.Outcome, "error", err)
	}
}
