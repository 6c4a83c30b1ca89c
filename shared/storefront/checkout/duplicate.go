package checkout

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Outcomes of a success that paid a session a second time.
const (
	// OutcomeRefundedDuplicate: the payment was given back in full; the
	// order is refunded and never fulfilled.
	OutcomeRefundedDuplicate = "refunded-duplicate"
	// OutcomeDuplicateRefundFailed: the PSP refused the refund (recorded
	// on the payment for an operator; the order stays unfulfilled).
	OutcomeDuplicateRefundFailed = "duplicate-refund-failed"
)

// Payment record attributes of a duplicate's refund.
const (
	attrDuplicateOf   = "duplicateOf"          // the order that paid the session first
	attrRefundKey     = "refundIdempotencyKey" // recorded before the PSP's refund call
	attrRefundID      = "refundId"             // the PSP's refund, recorded after it
	attrRefundStatus  = "refundStatus"
	attrRefundMessage = "refundMessage"
)

// refunder is the PSP call a duplicate's refund makes (the Stripe adapter,
// the checkout sandbox).
type refunder interface {
	Refund(ctx context.Context, c psp.Credentials, pspID, idempotencyKey string, amount int64, reason string) (psp.Result, error)
}

// refundDuplicate gives back a payment that succeeded for order o after
// another order had paid its session: the customer paid one cart twice (two
// tabs, or two buyers' details each taken to the payment before either was
// paid). The refund's intent (its idempotency key) is recorded on the
// payment before the PSP call; its result is recorded after, with the
// notification's event record and the order's refund, in one transaction.
// A crash in between leaves the event unrecorded, so the PSP's redelivery
// makes the same call with the same key, which the PSP answers with the
// same refund.
//
// paidBy is the paying order, from the session as the cancelled
// transaction returned it (ALL_OLD): no read of its own.
func (s *Service) refundDuplicate(ctx context.Context, n psp.Notification, o stores.Order, paidBy string) (string, error) {
	key := "tollgate-checkout-duplicate-" + o.ID
	intent := map[string]types.AttributeValue{attrRefundKey: dynamo.S(key)}
	if paidBy != "" {
		intent[attrDuplicateOf] = dynamo.S(paidBy)
	}
	payment := paymentKey(o.Store, o.ID)
	if err := s.st.Transact(ctx, []types.TransactWriteItem{
		dynamo.UpdateOp(s.st.Tables.Checkout, payment, dynamo.SetAll(intent), dynamo.Cond(dynamo.Exists())),
	}); err != nil {
		return "", fmt.Errorf("checkout: record the refund intent of duplicate order %s: %w", o.ID, err)
	}

	var (
		r     refunder = s.psps[psp.Sandbox]
		creds psp.Credentials
	)
	if n.PSP == psp.Stripe {
		a, c, err := s.pspFor(ctx)
		if err != nil {
			return "", err
		}
		if a.Type() != psp.Stripe {
			return "", fmt.Errorf("%w: a Stripe payment of order %s must be refunded, and no Stripe key is configured", ErrNoPSP, o.ID)
		}
		r, creds = a, c
	}
	res, err := r.Refund(ctx, creds, n.PSPTransactionID, key, n.Amount, "checkout already paid by order "+paidBy)
	if err != nil {
		return "", fmt.Errorf("checkout: refund duplicate order %s: %w", o.ID, err)
	}

	result := map[string]types.AttributeValue{attrRefundID: dynamo.S(res.PSPTransactionID), attrRefundStatus: dynamo.S(string(res.Status))}
	if res.Message != "" {
		result[attrRefundMessage] = dynamo.S(res.Message)
	}
	recordResult := dynamo.UpdateOp(s.st.Tables.Checkout, payment, dynamo.SetAll(result), dynamo.Cond(dynamo.Exists()))
	if res.Status == psp.StatusFail {
		return s.record(ctx, n, OutcomeDuplicateRefundFailed, []types.TransactWriteItem{recordResult})
	}
	for attempt := 0; attempt < 3; attempt++ {
		ops := []types.TransactWriteItem{recordResult}
		if o.RefundedMinor < n.Amount {
			// The PSP's charge.refunded may have been applied already.
			refund, err := stores.RefundOps(s.st.Tables, o, n.Amount, s.now().UTC())
			if err != nil {
				return "", err
			}
			ops = append(ops, refund...)
		}
		out, err := s.record(ctx, n, OutcomeRefundedDuplicate, ops)
		var failed *dynamo.ConditionFailedError
		if !errors.As(err, &failed) {
			return out, err
		}
		// The order's refund moved meanwhile (the PSP's own refund event):
		// read it again.
		var found bool
		if o, found, err = stores.GetOrder(ctx, s.st, o.Store, o.ID); err != nil {
			return "", err
		} else if !found {
			return "", fmt.Errorf("checkout: duplicate order %s is gone", o.ID)
		}
	}
	return "", refusal.New(ErrNotYet, "the refund of duplicate order %s kept changing; retried", o.ID)
}
