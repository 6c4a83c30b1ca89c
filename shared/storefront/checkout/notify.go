package checkout

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/stripe"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Outcomes of a notification.
const (
	OutcomeApplied   = "applied"
	OutcomeDuplicate = "duplicate"     // this event id was applied before
	OutcomeIgnored   = "ignored"       // a type or an order the checkout does not act on (recorded)
	OutcomeKnown     = "already-known" // recorded; it changes nothing (e.g. success after a refund)
	// OutcomeAmountMismatch: a success for another amount than the order's
	// total (recorded; never fulfilled).
	OutcomeAmountMismatch = "amount-mismatch"
	// OutcomeMismatch: a refund or dispute that does not match the order's
	// payment (another PaymentIntent or currency, more than was paid):
	// recorded, nothing changes.
	OutcomeMismatch = "mismatched"
)

// ErrNotYet: the notification names an order whose payment is not recorded
// yet (the PSP's answer raced its webhook): the PSP retries it.
var ErrNotYet = errors.New("checkout: the payment is not recorded yet")

// ReceiveStripe verifies a Stripe webhook with the platform's webhook
// secrets (current and, during a roll, previous) and applies it once per
// event id. A bad or stale signature, or an unreadable event, is
// ErrBadNotification: nothing is recorded.
func (s *Service) ReceiveStripe(ctx context.Context, payload []byte, signature string) (string, error) {
	whsec, err := s.secret(ctx, secrets.StripeWebhookSecret)
	if err != nil {
		return "", err
	}
	if len(whsec) == 0 {
		sk, err := s.secret(ctx, secrets.StripeSecretKey)
		if err != nil {
			return "", err
		}
		if len(sk) == 0 {
			// The checkout takes no Stripe payments here: no event can be
			// its, and there is nothing to verify one with. Acknowledged,
			// nothing applied or recorded (a payments-only deployment).
			return OutcomeIgnored, nil
		}
		// Payments are taken but their events cannot be verified: a
		// misconfiguration. Stripe retries (for days) until it is mended.
		return "", refusal.New(ErrNotConfigured, "the checkout takes Stripe payments but no Stripe webhook secret is configured")
	}
	n, err := stripe.ParseWebhook(payload, signature, whsec, s.now())
	if err != nil {
		if errors.Is(err, stripe.ErrSignature) {
			metrics.StripeSignatureFailures.Add(ctx, 1)
		}
		return "", refusal.New(ErrBadNotification, "%v", err)
	}
	return s.apply(ctx, n)
}

// apply applies a verified notification once per (PSP, event id), in any
// order: each effect commits in one TransactWriteItems with the event's
// record, so a redelivery is a duplicate and a crash leaves nothing half
// done. A refund or dispute that comes before the payment's success leaves
// the order unfulfillable (stores.FulfilPendingOps requires a pending,
// undisputed order).
func (s *Service) apply(ctx context.Context, n psp.Notification) (string, error) {
	if n.EventID == "" {
		return "", refusal.New(ErrBadNotification, "event without an id")
	}
	now := s.now().UTC()
	slug, id, byIntent, err := s.route(ctx, n)
	if err != nil {
		return "", err
	}
	if n.Kind == psp.NotifyIgnored || slug == "" {
		return s.record(ctx, n, OutcomeIgnored, nil)
	}
	money := n.Kind == psp.NotifyRefunded || n.Kind == psp.NotifyDisputeOpened || n.Kind == psp.NotifyDisputeUpdated || n.Kind == psp.NotifyDisputeClosed
	intent := n.PSPTransactionID // found by its PaymentIntent: the order's own
	if money && !byIntent {
		// Routed by metadata: the PaymentIntent it names must be the one the
		// order's payment recorded (its one intent).
		pay, err := s.payment(ctx, slug, id)
		if err != nil {
			return "", err
		}
		intent = dynamo.StringAttr(pay[attrPSPID])
	}
	for attempt := 0; attempt < applyAttempts; attempt++ {
		o, found, err := stores.GetOrder(ctx, s.st, slug, id)
		if err != nil {
			return "", err
		}
		if !found {
			return s.record(ctx, n, OutcomeIgnored, nil)
		}
		if money {
			// The order's one PaymentIntent charged its total in its currency.
			paid := psp.Recorded{PSPTransactionID: intent, Currency: o.Currency, Captured: o.TotalMinor}
			if why := psp.Mismatch(n, paid); why != "" {
				return s.recordWhy(ctx, n, OutcomeMismatch, why, nil)
			}
		}
		var ops []types.TransactWriteItem
		var keys *stores.Reservation // the keys a payment's success claims
		sid := n.Metadata[MetaSession]
		switch n.Kind {
		case psp.NotifySucceeded:
			if o.Status != stores.StatusPending || o.Dispute != "" {
				return s.record(ctx, n, OutcomeKnown, nil)
			}
			if n.Amount != o.TotalMinor || n.Currency != o.Currency {
				// Never fulfil what was not paid in full.
				return s.record(ctx, n, OutcomeAmountMismatch, nil)
			}
			keys, err = s.ful.Reserve(ctx, o)
			if errors.Is(err, stores.ErrInsufficientKeys) || errors.Is(err, stores.ErrUnknownSKU) {
				// Keys ran out after the payment: the PSP retries while the
				// store imports more; the order stays pending.
				return "", refusal.New(ErrNotYet, "order %s is paid but its store cannot supply its license keys (%v); retried", o.ID, err)
			}
			if err != nil {
				return "", err
			}
			ops, err = stores.FulfilPendingOps(s.st.Tables, o, keys, now)
			if sid != "" && err == nil {
				// Last, so the stores ops keep their indexes.
				ops = append(ops, sessionPaidOp(s.st.Tables.Checkout, sid, o.ID, now))
			}
		case psp.NotifyRefunded:
			if n.Amount <= o.RefundedMinor {
				return s.record(ctx, n, OutcomeKnown, nil)
			}
			ops, err = stores.RefundOps(s.st.Tables, o, n.Amount, now)
		case psp.NotifyDisputeOpened, psp.NotifyDisputeUpdated, psp.NotifyDisputeClosed:
			state := n.DisputeStatus
			if state == "" {
				state = "open"
			}
			if o.Dispute == state {
				// Another event of a state already announced (funds
				// withdrawn while it still needs a response): one event per state.
				return s.record(ctx, n, OutcomeKnown, nil)
			}
			ops, err = stores.DisputeOps(s.st.Tables, o, n.ObjectID, state, now)
		default: // failed or canceled intents: the order stays pending, another try may pay it
			return s.record(ctx, n, OutcomeKnown, nil)
		}
		if err != nil {
			keys.Done(err, 0)
			return "", err
		}
		out, err := s.record(ctx, n, OutcomeApplied, ops)
		if keys != nil {
			committed := err
			if err == nil && out != OutcomeApplied {
				committed = errNotApplied // a duplicate: nothing was claimed
			}
			keys.Done(committed, stores.ClaimAt)
		}
		if err == nil && out == OutcomeApplied && n.Kind == psp.NotifySucceeded {
			metrics.CheckoutConversions.Add(ctx, 1, slug)
			metrics.StoreFulfilments.Add(ctx, 1, slug, cmp.Or(o.Source, stores.SourceCheckout))
			metrics.KeysAllocated.Add(ctx, float64(stores.Units(o.Items)), slug)
			if err := s.ful.Claimed(ctx, slug, o.Items); err != nil && s.log != nil {
				s.log.WarnContext(ctx, "low stock not announced; the next fulfilment tries again", "store", slug, "error", err)
			}
		}
		var failed *dynamo.ConditionFailedError
		if errors.As(err, &failed) {
			if n.Kind == psp.NotifySucceeded && sid != "" && failed.Failed(len(ops)-1) && !failed.Failed(0) {
				// Another order of the session paid it first: this payment
				// is the customer's second for one cart.
				return s.refundDuplicate(ctx, n, o, dynamo.StringAttr(failed.Items[len(ops)-1][attrPaidOrder]))
			}
			// The order moved since it was read, or a shard of its pool did
			// (its claims are planned again from what DynamoDB returned).
			continue
		}
		return out, err
	}
	return "", refusal.New(ErrNotYet, "order %s kept changing while event %s was applied; retried", id, n.EventID)
}

// applyAttempts bounds how often an event is applied again because its
// order, or a shard of the pool its keys come from, moved meanwhile.
const applyAttempts = 20

// errNotApplied tells a reservation its transaction wrote nothing.
var errNotApplied = errors.New("checkout: the event's transaction was not applied")

// route finds the store and order a notification is about: its metadata
// (a PaymentIntent's), else the lookup row of its PaymentIntent (a charge's
// refund, a dispute: Stripe copies no metadata to them). byIntent: found
// by the lookup row, so the PaymentIntent is the order's by construction.
func (s *Service) route(ctx context.Context, n psp.Notification) (slug, id string, byIntent bool, err error) {
	if slug, id := n.Metadata[MetaStore], n.Metadata[MetaOrder]; slug != "" && id != "" {
		return slug, id, false, nil
	}
	if n.PSPTransactionID == "" {
		return "", "", false, nil
	}
	out, err := s.st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.st.Tables.Checkout), Key: piKey(n.PSP, n.PSPTransactionID),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", "", false, fmt.Errorf("checkout: find the order of %s: %w", n.PSPTransactionID, err)
	}
	return dynamo.StringAttr(out.Item[attrStore]), dynamo.StringAttr(out.Item[attrOrder]), true, nil
}

// record writes the event's record (new) with ops, in one transaction.
// The record is item 0 of the transaction: when it exists already the
// event was applied before (OutcomeDuplicate). Other cancellations are
// returned (*dynamo.ConditionFailedError, indexes shifted by one).
func (s *Service) record(ctx context.Context, n psp.Notification, outcome string, ops []types.TransactWriteItem) (string, error) {
	return s.recordWhy(ctx, n, outcome, "", ops)
}

// recordWhy is record with the reason of the outcome kept in the record.
func (s *Service) recordWhy(ctx context.Context, n psp.Notification, outcome, why string, ops []types.TransactWriteItem) (string, error) {
	rec := map[string]types.AttributeValue{"type": dynamo.S(n.EventType), "kind": dynamo.S(string(n.Kind)), "outcome": dynamo.S(outcome),
		dynamo.AttrCreatedAt: dynamo.Time(s.now())}
	if why != "" {
		rec["reason"] = dynamo.S(why)
	}
	if n.PSPTransactionID != "" {
		rec["pspId"] = dynamo.S(n.PSPTransactionID)
	}
	for k, v := range eventKey(n.PSP, n.EventID) {
		rec[k] = v
	}
	tx := append([]types.TransactWriteItem{dynamo.PutNewOp(s.st.Tables.Checkout, rec)}, ops...)
	err := s.st.Transact(ctx, tx)
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		return outcome, nil
	case errors.As(err, &failed) && failed.Failed(0):
		return OutcomeDuplicate, nil
	case errors.As(err, &failed):
		return "", shift(failed)
	}
	return "", fmt.Errorf("checkout: apply %s: %w", n.EventID, err)
}

// shift drops the record's slot so indexes are the ops' own.
func shift(f *dynamo.ConditionFailedError) *dynamo.ConditionFailedError {
	out := &dynamo.ConditionFailedError{Items: map[int]map[string]types.AttributeValue{}}
	for _, i := range f.Indexes {
		if i > 0 {
			out.Indexes = append(out.Indexes, i-1)
		}
	}
	for i, item := range f.Items {
		if i > 0 {
			out.Items[i-1] = item
		}
	}
	return out
}
