package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/stripe"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// Actions only notifications record.
const (
	ActionChargeback         = "CHARGEBACK"
	ActionChargebackReversed = "CHARGEBACK_REVERSED"
)

// Outcomes of ApplyNotification.
const (
	NotificationApplied   = "applied"
	NotificationDuplicate = "duplicate"
	NotificationIgnored   = "ignored"
	NotificationKnown     = "already-known" // it tells nothing the transaction does not say
	// NotificationMismatch: the event does not match the charge it names
	// (another PaymentIntent or currency, a refund above the capture):
	// recorded with the reason, nothing else changes.
	NotificationMismatch = "mismatched"
)

// ErrNotYet is the reason of a notification that arrived before the
// transaction's own first answer was recorded: the PSP retries it.
var ErrNotYet = errors.New("the transaction's first answer is not recorded yet")

// MetaTransaction and MetaMerchant name the metadata every charge carries
// at the PSP, which routes its notifications back.
const (
	MetaTransaction = "tollgate_transaction"
	MetaMerchant    = "tollgate_merchant"
)

func notificationKey(n psp.Notification) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("notification", string(n.PSP), n.EventID), mainSK)
}

// ApplyNotification applies a verified PSP notification once per event id,
// in any order: a PENDING charge settles SUCCESS or FAIL; a cancellation
// of a pre-authorization records its reversal; refunds made at the PSP
// (its refunded total beyond what Tollgate recorded) and chargebacks are
// appended to the history. Each is one TransactWriteItems holding the
// event's record, the transaction's change, its action row and the
// merchant's notification.
func (s *Service) ApplyNotification(ctx context.Context, n psp.Notification) (string, error) {
	txn := n.Metadata[MetaTransaction]
	if n.Kind == psp.NotifyIgnored || txn == "" || n.EventID == "" {
		return NotificationIgnored, nil
	}
	tx, err := s.item(ctx, txnKey(txn))
	if err != nil {
		return "", err
	}
	if len(tx) == 0 || dynamo.StringAttr(tx[attrMerchant]) != n.Metadata[MetaMerchant] {
		s.log.WarnContext(ctx, "PSP notification for a transaction this deployment does not have", "event", n.EventID, "transaction", txn)
		return NotificationIgnored, nil
	}
	status := dynamo.StringAttr(tx[attrStatus])
	if status == statusStarted {
		return "", refusal.New(ErrNotYet, "transaction %s has no recorded answer yet; send the event again later", txn)
	}
	amount, _ := dynamo.IntAttr(tx[attrAmount])
	refunded, _ := dynamo.IntAttr(tx[attrRefunded])
	captured, _ := dynamo.IntAttr(tx[attrCaptured])
	action := dynamo.StringAttr(tx[attrAction])
	now := s.now()
	if why := psp.Mismatch(n, psp.Recorded{PSPTransactionID: dynamo.StringAttr(tx[attrPSPID]), Currency: dynamo.StringAttr(tx[attrCurrency]), Captured: captured}); why != "" {
		s.log.WarnContext(ctx, "PSP notification does not match its transaction; recorded, not applied", "event", n.EventID, "transaction", txn, "reason", why)
		return s.recordMismatch(ctx, n, txn, why, now)
	}
	var upd expression.UpdateBuilder
	var cond expression.ConditionBuilder
	row := Answer{ID: txn, TransactionID: txn, Currency: dynamo.StringAttr(tx[attrCurrency]), AdditionalInfo: n.Message}
	switch n.Kind {
	case psp.NotifySucceeded, psp.NotifyFailed:
		if status != string(psp.StatusPending) {
			return NotificationKnown, nil
		}
		row.Action, row.Amount, row.Status = action, amount, string(psp.StatusSuccess)
		set := map[string]types.AttributeValue{attrStatus: dynamo.S(string(psp.StatusSuccess)), attrUpdatedAt: dynamo.Time(now)}
		if n.Kind == psp.NotifyFailed {
			row.Status = string(psp.StatusFail)
			set[attrStatus] = dynamo.S(row.Status)
		} else if action == ActionAuth {
			set[attrCaptured], set[attrRefundable] = dynamo.N(amount), dynamo.N(amount)
		}
		upd, cond = dynamo.SetAll(set), expression.Name(attrStatus).Equal(expression.Value(string(psp.StatusPending)))
	case psp.NotifyCanceled:
		if action != ActionPreauth || status != string(psp.StatusSuccess) {
			return NotificationKnown, nil
		}
		row.Action, row.Amount, row.Status = ActionReversal, amount, string(psp.StatusSuccess)
		upd = dynamo.SetAll(map[string]types.AttributeValue{attrAction: dynamo.S(ActionReversal), attrUpdatedAt: dynamo.Time(now)})
		cond = expression.Name(attrAction).Equal(expression.Value(ActionPreauth)).And(nothingInflight())
	case psp.NotifyRefunded:
		if n.Amount <= refunded {
			return NotificationKnown, nil
		}
		more := n.Amount - refunded
		row.Action, row.Amount, row.Status = ActionRefund, more, string(psp.StatusSuccess)
		upd = expression.Add(expression.Name(attrRefunded), expression.Value(more)).
			Add(expression.Name(attrRefundable), expression.Value(-more)).Set(expression.Name(attrUpdatedAt), expression.Value(dynamo.Timestamp(now)))
		cond = expression.Name(attrRefunded).Equal(expression.Value(refunded))
	case psp.NotifyDisputeOpened, psp.NotifyDisputeClosed:
		row.Action, row.Amount, row.Status = ActionChargeback, n.Amount, string(psp.StatusSuccess)
		if n.Kind == psp.NotifyDisputeClosed {
			if !n.DisputeWon {
				return NotificationKnown, nil // lost: the chargeback recorded when it opened stands
			}
			row.Action = ActionChargebackReversed
		}
		upd = expression.Set(expression.Name(attrUpdatedAt), expression.Value(dynamo.Timestamp(now)))
		cond = dynamo.Exists()
	default:
		return NotificationIgnored, nil
	}
	seen := map[string]types.AttributeValue{attrTxn: dynamo.S(txn), attrKind: dynamo.S(string(n.Kind)), attrCreatedAt: dynamo.Time(now)}
	for k, v := range notificationKey(n) {
		seen[k] = v
	}
	ev, err := s.event(dynamo.StringAttr(tx[attrMerchant]), dynamo.StringAttr(tx[attrPaymentMethod]), txn, now, row)
	if err != nil {
		return "", err
	}
	err = s.st.Transact(ctx, []types.TransactWriteItem{
		dynamo.PutNewOp(s.table, seen),
		dynamo.UpdateOp(s.table, txnKey(txn), upd, dynamo.Cond(cond)),
		s.actionOp(txn, now, row), ev,
	})
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		return NotificationApplied, nil
	case errors.As(err, &failed) && failed.Failed(0):
		return NotificationDuplicate, nil
	case errors.As(err, &failed):
		// The transaction moved since it was read: the PSP retries the event.
		return "", refusal.New(ErrNotYet, "transaction %s changed while the event was applied; send it again", txn)
	}
	return "", fmt.Errorf("payments: apply %s: %w", n.EventID, err)
}

// recordMismatch records that event n was received and did not match
// transaction txn (why), once per event id: nothing else is written.
func (s *Service) recordMismatch(ctx context.Context, n psp.Notification, txn, why string, now time.Time) (string, error) {
	seen := map[string]types.AttributeValue{attrTxn: dynamo.S(txn), attrKind: dynamo.S(string(n.Kind)), attrCreatedAt: dynamo.Time(now),
		attrMessage: dynamo.S(NotificationMismatch + ": " + why)}
	for k, v := range notificationKey(n) {
		seen[k] = v
	}
	err := s.st.Transact(ctx, []types.TransactWriteItem{dynamo.PutNewOp(s.table, seen)})
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		return NotificationMismatch, nil
	case errors.As(err, &failed):
		return NotificationDuplicate, nil
	}
	return "", fmt.Errorf("payments: record mismatched %s: %w", n.EventID, err)
}

// ErrBadNotification is the reason of a webhook that is not a verified PSP
// event (bad or stale signature, unreadable payload).
var ErrBadNotification = errors.New("not a verified PSP notification")

// ReceiveStripe verifies a Stripe webhook with the secret of the merchant
// whose charge it is about (its metadata names the merchant; the payload
// is only trusted once verified) and applies it. An event about no
// Tollgate charge is acknowledged and ignored.
func (s *Service) ReceiveStripe(ctx context.Context, payload []byte, signature string) (string, error) {
	peek, err := stripe.PeekWebhook(payload)
	if err != nil {
		return "", refusal.New(ErrBadNotification, "unreadable Stripe event")
	}
	merchant := peek.Metadata[MetaMerchant]
	if merchant == "" {
		return NotificationIgnored, nil
	}
	creds, err := s.creds.Credentials(ctx, merchant, psp.Stripe, peek.TestMode)
	if errors.Is(err, psp.ErrNotConfigured) || (err == nil && creds.WebhookSecret == "") {
		return "", refusal.New(ErrBadNotification, "no Stripe webhook secret for this event's merchant")
	}
	if err != nil {
		return "", err
	}
	n, err := stripe.ParseWebhook(payload, signature, []string{creds.WebhookSecret}, s.now())
	if err != nil {
		if errors.Is(err, stripe.ErrSignature) {
			metrics.StripeSignatureFailures.Add(ctx, 1)
		}
		return "", refusal.New(ErrBadNotification, "%v", err)
	}
	return s.ApplyNotification(ctx, n)
}
