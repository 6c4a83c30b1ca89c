package stripe

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	stripeapi "github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

// Tolerance is how far a Stripe-Signature timestamp may be from now (either
// way): older signed requests are replays.
const Tolerance = 300 * time.Second

// Refusals of a webhook request: the receiver answers them 400 and applies
// nothing.
var (
	// ErrSignature: no Stripe-Signature header, a malformed one, or no v1
	// signature made with any of the secrets.
	ErrSignature = errors.New("stripe webhook: no valid signature")
	// ErrStale: the signed timestamp is outside Tolerance.
	ErrStale = errors.New("stripe webhook: signature timestamp outside the 300 s tolerance")
	// ErrPayload: signed, but not an event Tollgate can read.
	ErrPayload = errors.New("stripe webhook: unreadable event")
)

// ParseWebhook verifies a Stripe webhook request (its raw body and
// Stripe-Signature header) at now with stripe-go's webhook package and
// maps it to a psp.Notification. The header may carry several v1
// signatures (Stripe signs with the old and the new secret while an
// endpoint secret is rolled) and secrets may hold several (Tollgate's side
// of a roll): one match is enough. The event's API version need not match
// the library's: only a few stable fields are read. Types the payments API
// does not act on are Kind NotifyIgnored, not an error.
func ParseWebhook(payload []byte, header string, secrets []string, now time.Time) (psp.Notification, error) {
	ts, err := signedAt(header)
	if err != nil {
		return psp.Notification{}, err
	}
	if d := now.Sub(ts); d > Tolerance || d < -Tolerance {
		return psp.Notification{}, fmt.Errorf("%w (signed at %s)", ErrStale, ts.UTC().Format(time.RFC3339))
	}
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		// The timestamp is checked above against the caller's clock.
		e, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{
			IgnoreTolerance:          true,
			IgnoreAPIVersionMismatch: true,
		})
		switch {
		case err == nil:
			return notification(e)
		case errors.Is(err, webhook.ErrNoValidSignature):
			continue
		case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader):
			return psp.Notification{}, fmt.Errorf("%w: %v", ErrSignature, err) //nolint:errorlint // the library's errors stay out of the chain: ErrSignature is the contract
		default: // signed, but its JSON is unreadable
			return psp.Notification{}, fmt.Errorf("%w: %v", ErrPayload, err) //nolint:errorlint // ErrPayload is the contract, the library's error its text
		}
	}
	return psp.Notification{}, ErrSignature
}

// PeekWebhook maps a webhook body WITHOUT verifying it: only for choosing
// whose secrets verify it (by Metadata, TestMode), never to act on.
func PeekWebhook(payload []byte) (psp.Notification, error) {
	var e stripeapi.Event
	if err := json.Unmarshal(payload, &e); err != nil {
		return psp.Notification{}, fmt.Errorf("%w: %v", ErrPayload, err) //nolint:errorlint // ErrPayload is the contract, the JSON error its text
	}
	return notification(e)
}

// SignWebhook returns the Stripe-Signature header Stripe would send for
// payload signed with secret at t (tests and local tools).
func SignWebhook(payload []byte, secret string, t time.Time) string {
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(stripeapi.ComputeSignature(t, payload, secret)))
}

// signedAt reads the header's t= (the library's own parse checks the rest).
func signedAt(header string) (time.Time, error) {
	if header == "" {
		return time.Time{}, fmt.Errorf("%w: no Stripe-Signature header", ErrSignature)
	}
	for _, pair := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(pair, "t="); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil || sec <= 0 {
				break
			}
			return time.Unix(sec, 0), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: malformed Stripe-Signature header (no timestamp)", ErrSignature)
}

// object holds the few fields read from a PaymentIntent, Charge or Dispute,
// stable across API versions.
type object struct {
	ID                 string            `json:"id"`
	Status             string            `json:"status"`
	Amount             int64             `json:"amount"`
	AmountReceived     int64             `json:"amount_received"`
	AmountRefunded     int64             `json:"amount_refunded"`
	Currency           string            `json:"currency"`
	Metadata           map[string]string `json:"metadata"`
	PaymentIntent      json.RawMessage   `json:"payment_intent"` // an id, or the object when expanded
	CancellationReason string            `json:"cancellation_reason"`
	Reason             string            `json:"reason"`
	LastPaymentError   *struct {
		Message     string `json:"message"`
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code"`
	} `json:"last_payment_error"`
}

// notification maps a parsed event.
func notification(e stripeapi.Event) (psp.Notification, error) {
	if e.ID == "" || e.Type == "" {
		return psp.Notification{}, fmt.Errorf("%w: no event id or type", ErrPayload)
	}
	n := psp.Notification{PSP: psp.Stripe, EventID: e.ID, EventType: string(e.Type), Kind: psp.NotifyIgnored,
		TestMode: !e.Livemode, Created: time.Unix(e.Created, 0).UTC()}
	var kind psp.NotificationKind
	switch e.Type {
	case "payment_intent.succeeded":
		kind = psp.NotifySucceeded
	case "payment_intent.payment_failed":
		kind = psp.NotifyFailed
	case "payment_intent.canceled":
		kind = psp.NotifyCanceled
	case "charge.refunded":
		kind = psp.NotifyRefunded
	case "charge.dispute.created":
		kind = psp.NotifyDisputeOpened
	case "charge.dispute.closed":
		kind = psp.NotifyDisputeClosed
	case "charge.dispute.updated", "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated":
		kind = psp.NotifyDisputeUpdated
	default:
		return n, nil
	}
	if e.Data == nil || len(e.Data.Raw) == 0 {
		return psp.Notification{}, fmt.Errorf("%w: %s without data.object", ErrPayload, e.Type)
	}
	var o object
	if err := json.Unmarshal(e.Data.Raw, &o); err != nil {
		return psp.Notification{}, fmt.Errorf("%w: %s data.object: %v", ErrPayload, e.Type, err) //nolint:errorlint // ErrPayload is the contract, the JSON error its text
	}
	n.Amount, n.Currency, n.Metadata = o.Amount, strings.ToUpper(o.Currency), o.Metadata
	switch kind {
	case psp.NotifySucceeded, psp.NotifyFailed, psp.NotifyCanceled:
		n.PSPTransactionID = o.ID
		switch kind {
		case psp.NotifySucceeded:
			n.Status = psp.StatusSuccess
			if o.AmountReceived > 0 {
				n.Amount = o.AmountReceived
			}
		case psp.NotifyFailed:
			n.Status, n.Message = psp.StatusFail, "payment failed"
			if p := o.LastPaymentError; p != nil && p.Message != "" {
				n.Message = p.Message
				if code := firstNonEmpty(p.DeclineCode, p.Code); code != "" {
					n.Message += " (" + code + ")"
				}
			}
		default:
			n.Message = o.CancellationReason
		}
	case psp.NotifyRefunded:
		n.ObjectID, n.PSPTransactionID, n.Amount = o.ID, expandableID(o.PaymentIntent), o.AmountRefunded
	default: // disputes
		n.ObjectID, n.PSPTransactionID, n.Message = o.ID, expandableID(o.PaymentIntent), o.Reason
		n.DisputeStatus = o.Status
		if kind == psp.NotifyDisputeUpdated {
			n.Message = o.Status
		}
		if kind == psp.NotifyDisputeClosed {
			n.DisputeWon = o.Status == "won"
			n.Message = o.Status
		}
	}
	if n.PSPTransactionID == "" {
		// A charge made without a PaymentIntent is none of Tollgate's.
		n.Kind, n.Message = psp.NotifyIgnored, "no PaymentIntent"
		return n, nil
	}
	n.Kind = kind
	return n, nil
}

// expandableID reads a field that is an id or, expanded, an object with one.
func expandableID(raw json.RawMessage) string {
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.ID
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
