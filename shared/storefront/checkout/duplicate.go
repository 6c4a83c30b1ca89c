package checkout

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
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
	r := pspRefund{order: o, psp: n.PSP, pspID: n.PSPTransactionID, key: "tollgate-checkout-duplicate-" + o.ID, amount: n.Amount,
		reason: "checkout already paid by order " + paidBy}
	intent := map[string]types.AttributeValue{}
	if paidBy != "" {
		intent[attrDuplicateOf] = dynamo.S(paidBy)
	}
	if err := s.recordRefundIntent(ctx, r, intent, dynamo.Exists()); err != nil {
		return "", fmt.Errorf("checkout: record the refund intent of duplicate order %s: %w", o.ID, err)
	}
	res, err := s.callRefund(ctx, r)
	if err != nil {
		return "", err
	}
	if res.Status == psp.StatusFail {
		return s.record(ctx, n, OutcomeDuplicateRefundFailed, []types.TransactWriteItem{s.refundResultOp(r, res)})
	}
	// The PSP's own charge.refunded may have refunded the order already.
	return s.commitRefund(ctx, r, n.Amount, s.refundResultOp(r, res), func(ops []types.TransactWriteItem) (string, error) {
		return s.record(ctx, n, OutcomeRefundedDuplicate, ops)
	})
}

// pspRefund is one refund of an order's payment through its PSP: the
// duplicate of a paid session (refundDuplicate), or a store's refund from
// the portal (RefundOrder). Its intent (the idempotency key) is recorded on
// the payment before the PSP call and its result after; the same key
// again is the same refund at the PSP.
type pspRefund struct {
	order  stores.Order
	psp    psp.Type
	pspID  string // the payment's id at the PSP
	key    string // the refund's idempotency key
	amount int64
	reason string
}

// recordRefundIntent records r's idempotency key (and extra) on the
// payment, under cond: one conditional write, before the PSP call.
func (s *Service) recordRefundIntent(ctx context.Context, r pspRefund, extra map[string]types.AttributeValue, cond expression.ConditionBuilder) error {
	set := map[string]types.AttributeValue{attrRefundKey: dynamo.S(r.key)}
	for k, v := range extra {
		set[k] = v
	}
	return s.st.Transact(ctx, []types.TransactWriteItem{
		dynamo.UpdateOp(s.st.Tables.Checkout, paymentKey(r.order.Store, r.order.ID), dynamo.SetAll(set), dynamo.Cond(cond)),
	})
}

// callRefund asks r's PSP for the refund, with r's idempotency key: the
// sandbox, or Stripe with the platform's key.
func (s *Service) callRefund(ctx context.Context, r pspRefund) (psp.Result, error) {
	var (
		ref   refunder = s.psps[psp.Sandbox]
		creds psp.Credentials
	)
	if r.psp == psp.Stripe {
		a, c, err := s.pspFor(ctx)
		if err != nil {
			return psp.Result{}, err
		}
		if a.Type() != psp.Stripe {
			return psp.Result{}, fmt.Errorf("%w: a Stripe payment of order %s must be refunded, and no Stripe key is configured", ErrNoPSP, r.order.ID)
		}
		ref, creds = a, c
	}
	res, err := ref.Refund(ctx, creds, r.pspID, r.key, r.amount, r.reason)
	if err != nil {
		return psp.Result{}, fmt.Errorf("checkout: refund order %s: %w", r.order.ID, err)
	}
	return res, nil
}

// refundResultOp records the PSP's answer to r on the payment.
func (s *Service) refundResultOp(r pspRefund, res psp.Result) types.TransactWriteItem {
	result := map[string]types.AttributeValue{attrRefundID: dynamo.S(res.PSPTransactionID), attrRefundStatus: dynamo.S(string(res.Status))}
	if res.Message != "" {
		result[attrRefundMessage] = dynamo.S(res.Message)
	}
	return dynamo.UpdateOp(s.st.Tables.Checkout, paymentKey(r.order.Store, r.order.ID), dynamo.SetAll(result), dynamo.Cond(dynamo.Exists()))
}

// commitRefund commits result (item 0) with the order's refund to
// refundedTotal (stores.RefundOps: status, keys revoked, order.refunded,
// the buyer's notice) through commit, in one transaction. When the order
// moved meanwhile (the PSP's own refund event applied it) it is read again
// and the refund left out once the order records it.
func (s *Service) commitRefund(ctx context.Context, r pspRefund, refundedTotal int64, result types.TransactWriteItem,
	commit func([]types.TransactWriteItem) (string, error)) (string, error) {
	o := r.order
	for attempt := 0; attempt < 3; attempt++ {
		ops := []types.TransactWriteItem{result}
		if o.RefundedMinor < refundedTotal {
			refund, err := stores.RefundOps(s.st.Tables, o, refundedTotal, s.now().UTC())
			if err != nil {
				return "", err
			}
			ops = append(ops, refund...)
		}
		out, err := commit(ops)
		var failed *dynamo.ConditionFailedError
		if !errors.As(err, &failed) {
			return out, err
		}
		var found bool
		if o, found, err = stores.GetOrder(ctx, s.st, o.Store, o.ID); err != nil {
			return "", err
		} else if !found {
			return "", fmt.Errorf("checkout: order %s is gone", o.ID)
		}
	}
	return "", refusal.New(ErrNotYet, "the refund of order %s kept changing; retried", o.ID)
}
