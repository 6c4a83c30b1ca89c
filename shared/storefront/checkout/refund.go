package checkout

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// A store's refund of a paid checkout order from the portal: the whole of
// what is left of its payment, through the PSP that took it, exactly once
// however often it is asked. The payment record holds the refund's intent
// (idempotency key, amount) and a lease before the PSP call, so one press
// calls the PSP while the others are told it is under way; the PSP's
// answer is recorded after, with the order's refund (status, keys revoked,
// order.refunded, the buyer's notice) and the portal's audit row, in one
// transaction.
//
// Payment record attributes it adds (with those of duplicate.go):
//
//	refundAmount        what the intent asks the PSP to give back
//	refundLease         the token of the press that holds the PSP call
//	refundLeaseUntil    when that press's hold ends (unix ms): a crash leaves the intent for the next press after it

// Reasons of a portal refund's refusal.
var (
	// ErrNotRefundable: an order the portal cannot refund (paid outside
	// Tollgate through the licensing API, not paid, disputed, or refunded
	// as a duplicate payment).
	ErrNotRefundable = errors.New("checkout: this order cannot be refunded here")
	// ErrRefundUnderWay: another press holds the refund's PSP call; its
	// outcome shows on the order shortly.
	ErrRefundUnderWay = errors.New("checkout: a refund of this order is under way")
	// ErrRefundRefused: the PSP refused the refund (recorded on the
	// payment; the order is unchanged).
	ErrRefundRefused = errors.New("checkout: the payment provider refused the refund")
)

const (
	attrRefundAmount     = "refundAmount"
	attrRefundLease      = "refundLease"
	attrRefundLeaseUntil = "refundLeaseUntil"
	// RefundLease bounds how long one press holds the PSP call (longer
	// than the PSP's timeout and its retries).
	RefundLease = 2 * time.Minute
)

// RefundKey is the PSP idempotency key of the portal's refund of order id.
func RefundKey(orderID string) string { return "tollgate-portal-refund-" + orderID }

// Refund is the outcome of RefundOrder.
type Refund struct {
	OrderID       string
	Currency      string
	RefundedMinor int64  // the order's refunded total now
	PSPRefundID   string // the PSP's refund ("" when Already)
	// Already: the order was refunded in full before (an earlier press,
	// or the PSP's own refund event); nothing was done.
	Already bool
}

// RefundOrder refunds checkout order id of store slug in full through its
// PSP (what is left of its payment), exactly once; audit (the portal's
// audit row) commits with the recorded result. The DynamoDB calls of a
// refund: the order and its payment read (two GetItems), the intent (one
// TransactWriteItems), the result with the order's refund and audit (one).
func (s *Service) RefundOrder(ctx context.Context, slug, id string, audit types.TransactWriteItem) (Refund, error) {
	if !stores.ValidSlug(slug) || !stores.ValidOrderID(id) {
		return Refund{}, refusal.New(ErrNoOrder, "no such order")
	}
	o, found, err := stores.GetOrder(ctx, s.st, slug, id)
	if err != nil {
		return Refund{}, err
	}
	if !found {
		return Refund{}, refusal.New(ErrNoOrder, "store %q has no order %s", slug, id)
	}
	rec, err := s.payment(ctx, slug, id)
	if err != nil {
		return Refund{}, err
	}
	out := Refund{OrderID: o.ID, Currency: o.Currency, RefundedMinor: o.RefundedMinor}
	switch {
	case rec == nil || o.Source == stores.SourceAPI:
		return Refund{}, refusal.New(ErrNotRefundable, "order %s was paid outside Tollgate (licensing API): refund it where it was paid", id)
	case o.RefundedMinor >= o.TotalMinor:
		out.Already = true
		return out, nil
	case dynamo.StringAttr(rec[attrDuplicateOf]) != "":
		return Refund{}, refusal.New(ErrNotRefundable, "order %s paid a checkout another order had paid; its payment is refunded as a duplicate", id)
	case !o.Fulfilled:
		return Refund{}, refusal.New(ErrNotRefundable, "order %s is %s: nothing was paid for it", id, o.Status)
	case o.Dispute != "":
		return Refund{}, refusal.New(ErrNotRefundable, "order %s is disputed (%s): the dispute decides its refund", id, o.Dispute)
	}
	key := RefundKey(id)
	r := pspRefund{order: o, psp: psp.Type(dynamo.StringAttr(rec[attrPSP])), pspID: dynamo.StringAttr(rec[attrPSPID]), key: key,
		amount: o.TotalMinor - o.RefundedMinor, reason: "refunded by the store"}
	now := s.now().UTC()
	if dynamo.StringAttr(rec[attrRefundKey]) == key {
		if recorded, err := dynamo.IntAttr(rec[attrRefundAmount]); err == nil {
			r.amount = recorded // the same key asks the same refund
		}
		if dynamo.StringAttr(rec[attrRefundID]) != "" {
			// The PSP's answer is recorded, and with an accepted one the
			// order's refund (one transaction): the order read before
			// another press committed it. A refusal stands.
			if psp.Status(dynamo.StringAttr(rec[attrRefundStatus])) == psp.StatusFail {
				return Refund{}, refusal.New(ErrRefundRefused, "the payment provider refused the refund of order %s: %s", id, dynamo.StringAttr(rec[attrRefundMessage]))
			}
			out.Already, out.RefundedMinor = true, o.TotalMinor
			return out, nil
		}
		if until, err := dynamo.IntAttr(rec[attrRefundLeaseUntil]); err == nil && now.UnixMilli() < until {
			return Refund{}, refusal.New(ErrRefundUnderWay, "a refund of order %s is under way; reload in a moment", id)
		}
	}
	token := leaseToken()
	held := expression.AttributeNotExists(expression.Name(attrRefundLeaseUntil)).
		Or(expression.Name(attrRefundLeaseUntil).LessThan(expression.Value(now.UnixMilli())))
	cond := dynamo.Exists().And(expression.AttributeNotExists(expression.Name(attrRefundID))).And(held)
	err = s.recordRefundIntent(ctx, r, map[string]types.AttributeValue{attrRefundAmount: dynamo.N(r.amount), attrRefundLease: dynamo.S(token),
		attrRefundLeaseUntil: dynamo.N(now.Add(RefundLease).UnixMilli())}, cond)
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) {
		return Refund{}, refusal.New(ErrRefundUnderWay, "a refund of order %s is under way; reload in a moment", id)
	}
	if err != nil {
		return Refund{}, fmt.Errorf("checkout: record the refund intent of order %s: %w", id, err)
	}
	res, err := s.callRefund(ctx, r)
	if err != nil {
		s.releaseRefund(ctx, r, token) // the next press may call again at once, with the same key
		return Refund{}, err
	}
	if res.Status == psp.StatusFail {
		if err := s.st.Transact(ctx, []types.TransactWriteItem{s.refundResultOp(r, res), audit}); err != nil {
			return Refund{}, fmt.Errorf("checkout: record the refused refund of order %s: %w", id, err)
		}
		return Refund{}, refusal.New(ErrRefundRefused, "the payment provider refused the refund of order %s: %s", id, res.Message)
	}
	return s.commitPortalRefund(ctx, r, res, audit)
}

// commitPortalRefund commits the PSP's answer res with the order's refund
// to its total and the audit row.
func (s *Service) commitPortalRefund(ctx context.Context, r pspRefund, res psp.Result, audit types.TransactWriteItem) (Refund, error) {
	_, err := s.commitRefund(ctx, r, r.order.TotalMinor, s.refundResultOp(r, res), func(ops []types.TransactWriteItem) (string, error) {
		return "", s.st.Transact(ctx, append(ops, audit))
	})
	if err != nil {
		return Refund{}, fmt.Errorf("checkout: record the refund of order %s: %w", r.order.ID, err)
	}
	return Refund{OrderID: r.order.ID, Currency: r.order.Currency, RefundedMinor: r.order.TotalMinor, PSPRefundID: res.PSPTransactionID}, nil
}

// releaseRefund gives up this press's hold of the PSP call after the call
// failed (best effort: the hold ends by itself after RefundLease).
func (s *Service) releaseRefund(ctx context.Context, r pspRefund, token string) {
	_ = s.st.Transact(ctx, []types.TransactWriteItem{dynamo.UpdateOp(s.st.Tables.Checkout, paymentKey(r.order.Store, r.order.ID),
		dynamo.RemoveAll(expression.UpdateBuilder{}, attrRefundLease, attrRefundLeaseUntil),
		dynamo.Cond(expression.Name(attrRefundLease).Equal(expression.Value(token))))})
}

func leaseToken() string {
	b := make([]byte, 16)
	_, _ = crand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
