package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// attrRefundAmount is the amount a pending refund record holds.
const attrRefundAmount = "refundAmount"

// RefundRequest refunds part or all of a captured transaction.
type RefundRequest struct {
	Merchant      string
	IdempotentKey string
	Fingerprint   string
	TestMode      bool
	TransactionID string
	Amount        int64
	Currency      string
	Reason        string
}

// Refund refunds, once per Idempotent-Key, from a successful capture or
// authorization, while refunds stay within the captured amount: the intent
// takes the amount from the transaction's refundable balance in the same
// transaction that records it (conditional on the balance covering it), so
// refunds racing each other can never exceed it; a failed refund gives the
// amount back.
func (s *Service) Refund(ctx context.Context, req RefundRequest) (Answer, error) {
	ik := idemKey(req.Merchant, "refund", req.IdempotentKey)
	for round := 0; round < 4; round++ {
		found, err := s.items(ctx, ik, txnKey(req.TransactionID))
		if err != nil {
			return Answer{}, err
		}
		rec, tx := found[0], found[1]
		if rec != nil {
			ans, done, taken, err := s.resume(ctx, rec, req.Fingerprint, ik)
			switch {
			case done:
				return ans, err
			case taken:
				return s.refund(ctx, req, tx, dynamo.StringAttr(rec[attrPSPKey]))
			}
			continue // another request took it over first
		}
		if err := refundRefusal(tx, req); err != nil {
			return Answer{}, err
		}
		key := pspKey("refund", req.TransactionID, req.Merchant, req.IdempotentKey)
		err = s.st.Transact(ctx, s.refundIntentOps(req, ik, key))
		var failed *dynamo.ConditionFailedError
		switch {
		case err == nil:
			return s.refund(ctx, req, tx, key)
		case errors.As(err, &failed) && failed.Failed(0):
			continue // a duplicate recorded first
		case errors.As(err, &failed):
			if tx, err = s.item(ctx, txnKey(req.TransactionID)); err != nil {
				return Answer{}, err
			}
			if r := refundRefusal(tx, req); r != nil {
				return Answer{}, r
			}
			continue
		}
		s.releaseLease(ctx, ik) // the intent may be written; let the retry take it over
		return Answer{}, fmt.Errorf("payments: record the refund intent: %w", err)
	}
	return Answer{}, refusal.New(ErrInProgress, "Idempotent-Key %s is being used by another request; retry", req.IdempotentKey)
}

// refundRefusal explains why tx cannot be refunded as req asks (nil: it can).
func refundRefusal(tx map[string]types.AttributeValue, req RefundRequest) error {
	refundable, _ := dynamo.IntAttr(tx[attrRefundable])
	action := dynamo.StringAttr(tx[attrAction])
	switch {
	case len(tx) == 0 || dynamo.StringAttr(tx[attrMerchant]) != req.Merchant:
		return refusal.New(ErrTransactionMissing, "transaction %s not found", req.TransactionID)
	case dynamo.BoolAttr(tx[attrTestMode]) != req.TestMode:
		return refusal.New(ErrTestModeMismatch, "transaction %s was made with PSP-Test-Mode %t", req.TransactionID, dynamo.BoolAttr(tx[attrTestMode]))
	case (action != ActionCapture && action != ActionAuth) || dynamo.StringAttr(tx[attrStatus]) != string(psp.StatusSuccess):
		return refusal.New(ErrNotAllowed, "only a captured or authorized transaction can be refunded; %s is %s %s", req.TransactionID, action, publicStatus(dynamo.StringAttr(tx[attrStatus])))
	case dynamo.StringAttr(tx[attrCurrency]) != req.Currency:
		return refusal.New(ErrNotAllowed, "transaction %s is in %s, not %s", req.TransactionID, dynamo.StringAttr(tx[attrCurrency]), req.Currency)
	case req.Amount > refundable:
		return refusal.New(ErrRefundExceeds, "refund of %d would exceed the refundable %d of transaction %s", req.Amount, refundable, req.TransactionID)
	}
	return nil
}

func (s *Service) refundIntentOps(req RefundRequest, ik dynamo.Key, key string) []types.TransactWriteItem {
	now := s.now()
	idem := intent(ik, req.Fingerprint, req.TransactionID, key, now)
	idem[attrRefundAmount] = dynamo.N(req.Amount)
	take := expression.Add(expression.Name(attrRefundable), expression.Value(-req.Amount)).Set(expression.Name(attrUpdatedAt), expression.Value(dynamo.Timestamp(now)))
	cond := expression.Name(attrMerchant).Equal(expression.Value(req.Merchant)).
		And(expression.Name(attrTestMode).Equal(expression.Value(req.TestMode))).
		And(expression.Name(attrStatus).Equal(expression.Value(string(psp.StatusSuccess)))).
		And(expression.Name(attrAction).In(expression.Value(ActionCapture), expression.Value(ActionAuth))).
		And(expression.Name(attrRefundable).GreaterThanEqual(expression.Value(req.Amount)))
	return []types.TransactWriteItem{dynamo.PutNewOp(s.table, idem), dynamo.UpdateOp(s.table, txnKey(req.TransactionID), take, dynamo.Cond(cond))}
}

// refund calls the PSP for a recorded refund intent and records the result.
func (s *Service) refund(ctx context.Context, req RefundRequest, tx map[string]types.AttributeValue, key string) (Answer, error) {
	a, c, err := s.adapter(ctx, req.Merchant, psp.Type(dynamo.StringAttr(tx[attrPSPType])), req.TestMode)
	if err != nil {
		return Answer{}, err
	}
	ik := idemKey(req.Merchant, "refund", req.IdempotentKey)
	res, err := a.Refund(ctx, c, dynamo.StringAttr(tx[attrPSPID]), key, req.Amount, req.Reason)
	if err != nil {
		return Answer{}, s.unanswered(ctx, ik, "refund", req.TransactionID, err)
	}
	ans := answerOf(req.TransactionID, req.Amount, req.Currency, ActionRefund, res)
	now := s.now()
	var txUpd expression.UpdateBuilder
	if res.Status == psp.StatusFail {
		txUpd = expression.Add(expression.Name(attrRefundable), expression.Value(req.Amount)) // give it back
	} else {
		txUpd = expression.Add(expression.Name(attrRefunded), expression.Value(req.Amount))
	}
	txUpd = txUpd.Set(expression.Name(attrUpdatedAt), expression.Value(dynamo.Timestamp(now)))
	body, err := jsonAnswer(ans)
	if err != nil {
		return Answer{}, err
	}
	ev, err := s.event(req.Merchant, dynamo.StringAttr(tx[attrPaymentMethod]), req.TransactionID, now, ans)
	if err != nil {
		return Answer{}, err
	}
	err = s.st.Transact(ctx, []types.TransactWriteItem{
		s.answerOp(ik, body),
		dynamo.UpdateOp(s.table, txnKey(req.TransactionID), txUpd, nil),
		s.actionOp(req.TransactionID, now, ans), ev,
	})
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) {
		rec, err := s.item(ctx, ik)
		if err != nil {
			return Answer{}, err
		}
		return decodeAnswer(rec)
	}
	if err != nil {
		s.releaseLease(ctx, ik)
		return Answer{}, fmt.Errorf("payments: record refund of %s: %w", req.TransactionID, err)
	}
	metrics.Payments.Add(ctx, 1, string(a.Type()), ActionRefund, string(res.Status))
	return ans, nil
}
