package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// More transaction attributes.
const (
	attrInflightLease = "inflightLease" // unix milliseconds
	attrTries         = "tries"         // captures and reversals sent so far: each try has its own PSP key
	attrLastAnswer    = "lastAnswer"    // the answer of the last capture or reversal, for repeats
)

// Capture captures a successful pre-authorization in full. A repeated
// capture answers the stored result; a failed capture leaves the
// pre-authorization capturable. Two round trips: the intent (one
// conditional UpdateItem that also returns the transaction) and the
// result.
func (s *Service) Capture(ctx context.Context, merchant, txn string, test bool) (Answer, error) {
	return s.settle(ctx, merchant, txn, test, ActionCapture, "")
}

// Reverse cancels a successful pre-authorization that was not captured;
// repeated, it answers the stored result.
func (s *Service) Reverse(ctx context.Context, merchant, txn string, test bool, reason string) (Answer, error) {
	return s.settle(ctx, merchant, txn, test, ActionReversal, reason)
}

// settle runs a capture or a reversal: the state machine's one place for
// them.
func (s *Service) settle(ctx context.Context, merchant, txn string, test bool, action, reason string) (Answer, error) {
	for round := 0; round < 4; round++ {
		tx, old, err := s.claimSettle(ctx, merchant, txn, test, action)
		if err != nil {
			s.freeSettle(ctx, txn, action) // the claim may be written; let the retry take it over
			return Answer{}, err
		}
		if tx == nil { // the condition failed: explain, repeat, or take over
			ans, takeOver, err := s.settleRefused(ctx, old, merchant, txn, test, action)
			if err != nil || !takeOver {
				return ans, err
			}
			if tx, err = s.takeOverSettle(ctx, txn, old); err != nil {
				return Answer{}, err
			}
			if tx == nil {
				continue
			}
		}
		return s.callSettle(ctx, merchant, txn, tx, action, reason)
	}
	return Answer{}, refusal.New(ErrInProgress, "another %s of %s is in progress; retry", action, txn)
}

// claimSettle records the intent of action on txn: conditional on the
// transaction being the merchant's successful pre-authorization in mode
// test with nothing in flight. It returns the transaction as updated, or
// nil and the item as it was when the condition failed.
func (s *Service) claimSettle(ctx context.Context, merchant, txn string, test bool, action string) (tx, old map[string]types.AttributeValue, err error) {
	upd := expression.Set(expression.Name(attrInflight), expression.Value(action)).
		Set(expression.Name(attrInflightLease), expression.Value(s.now().Add(lease).UnixMilli())).
		Add(expression.Name(attrTries), expression.Value(1))
	cond := dynamo.Exists().And(expression.Name(attrMerchant).Equal(expression.Value(merchant))).
		And(expression.Name(attrTestMode).Equal(expression.Value(test))).
		And(expression.Name(attrAction).Equal(expression.Value(ActionPreauth))).
		And(expression.Name(attrStatus).Equal(expression.Value(string(psp.StatusSuccess)))).
		And(nothingInflight())
	return s.update(ctx, txnKey(txn), upd, cond)
}

// nothingInflight holds when no capture or reversal is with the PSP. A
// finished one leaves inflight "" rather than removing it, so every engine
// (an emulator that ignores REMOVE included) reads the same state.
func nothingInflight() expression.ConditionBuilder {
	return expression.AttributeNotExists(expression.Name(attrInflight)).Or(expression.Name(attrInflight).Equal(expression.Value("")))
}

// update runs one conditional UpdateItem returning the new item, or (nil,
// the old item) when the condition failed; an emulator that does not
// return the old item on failure gets it read.
func (s *Service) update(ctx context.Context, key dynamo.Key, upd expression.UpdateBuilder, cond expression.ConditionBuilder) (map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	e := dynamo.Build(expression.NewBuilder().WithUpdate(upd).WithCondition(cond))
	out, err := s.st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key, UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ReturnValues: types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return out.Attributes, nil, nil
	case errors.As(err, &ccf):
		if len(ccf.Item) > 0 {
			return nil, ccf.Item, nil
		}
		old, err := s.item(ctx, key)
		return nil, old, err
	}
	return nil, nil, fmt.Errorf("payments: update %s: %w", dynamo.StringAttr(key[dynamo.AttrPK]), err)
}

// settleRefused explains a refused capture or reversal from the
// transaction as it was: a repeat of a done one answers its stored result;
// one in flight with an expired lease is to be taken over (true).
func (s *Service) settleRefused(ctx context.Context, old map[string]types.AttributeValue, merchant, txn string, test bool, action string) (Answer, bool, error) {
	switch {
	case len(old) == 0 || dynamo.StringAttr(old[attrMerchant]) != merchant:
		return Answer{}, false, refusal.New(ErrTransactionMissing, "transaction %s not found", txn)
	case dynamo.BoolAttr(old[attrTestMode]) != test:
		return Answer{}, false, refusal.New(ErrTestModeMismatch, "transaction %s was made with PSP-Test-Mode %t", txn, dynamo.BoolAttr(old[attrTestMode]))
	case dynamo.StringAttr(old[attrInflight]) != "":
		if dynamo.StringAttr(old[attrInflight]) != action {
			return Answer{}, false, refusal.New(ErrNotAllowed, "a %s of %s is in progress", dynamo.StringAttr(old[attrInflight]), txn)
		}
		until, _ := dynamo.IntAttr(old[attrInflightLease])
		if until > s.now().UnixMilli() {
			return Answer{}, false, refusal.New(ErrInProgress, "a %s of %s is with the PSP; retry in a few seconds", action, txn)
		}
		return Answer{}, true, nil
	case dynamo.StringAttr(old[attrAction]) == action && dynamo.StringAttr(old[attrStatus]) == string(psp.StatusSuccess):
		var ans Answer
		if err := json.Unmarshal([]byte(dynamo.StringAttr(old[attrLastAnswer])), &ans); err != nil {
			return Answer{}, false, fmt.Errorf("payments: %s of %s: unreadable stored answer: %w", action, txn, err)
		}
		return ans, false, nil
	case action == ActionCapture && dynamo.StringAttr(old[attrAction]) == ActionAuth:
		return Answer{}, false, refusal.New(ErrAlreadyCaptured, "transaction %s is already captured", txn)
	}
	return Answer{}, false, refusal.New(ErrNotAllowed, "%s is not allowed: transaction %s is %s %s", action, txn,
		dynamo.StringAttr(old[attrAction]), publicStatus(dynamo.StringAttr(old[attrStatus])))
}

// takeOverSettle claims an expired in-flight capture or reversal, keeping
// its try (so its PSP key) unchanged.
func (s *Service) takeOverSettle(ctx context.Context, txn string, old map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	prev, _ := dynamo.IntAttr(old[attrInflightLease])
	upd := expression.Set(expression.Name(attrInflightLease), expression.Value(s.now().Add(lease).UnixMilli()))
	cond := expression.Name(attrInflightLease).Equal(expression.Value(prev))
	tx, _, err := s.update(ctx, txnKey(txn), upd, cond)
	return tx, err
}

// callSettle calls the PSP for a claimed capture or reversal and records
// the result: success moves the transaction on; a failure frees it (a
// pre-authorization whose capture failed stays capturable).
func (s *Service) callSettle(ctx context.Context, merchant, txn string, tx map[string]types.AttributeValue, action, reason string) (Answer, error) {
	t := psp.Type(dynamo.StringAttr(tx[attrPSPType]))
	test := dynamo.BoolAttr(tx[attrTestMode])
	a, c, err := s.adapter(ctx, merchant, t, test)
	if err != nil {
		return Answer{}, err
	}
	tries, _ := dynamo.IntAttr(tx[attrTries])
	key := pspKey(action, txn, strconv.FormatInt(tries, 10))
	amount, _ := dynamo.IntAttr(tx[attrAmount])
	pspID := dynamo.StringAttr(tx[attrPSPID])
	var res psp.Result
	if action == ActionCapture {
		res, err = a.Capture(ctx, c, pspID, key, amount)
	} else {
		res, err = a.Reverse(ctx, c, pspID, key, reason)
	}
	if err != nil {
		s.freeSettle(ctx, txn, action)
		s.log.WarnContext(ctx, "PSP call failed; a retry calls again with the same key", "transaction", txn, "action", action, "error", err)
		return Answer{}, refusal.New(ErrPSP, "the PSP did not answer; retry")
	}
	ans := answerOf(txn, amount, dynamo.StringAttr(tx[attrCurrency]), action, res)
	body, err := json.Marshal(ans)
	if err != nil {
		return Answer{}, err
	}
	now := s.now()
	set := map[string]types.AttributeValue{attrLastAnswer: dynamo.S(string(body)), attrUpdatedAt: dynamo.Time(now), attrInflight: dynamo.S(""), attrInflightLease: dynamo.N(0)}
	if res.Status == psp.StatusSuccess {
		set[attrAction] = dynamo.S(action)
		if action == ActionCapture {
			set[attrCaptured], set[attrRefundable] = dynamo.N(amount), dynamo.N(amount)
		}
	}
	upd := dynamo.SetAll(set)
	ev, err := s.event(merchant, dynamo.StringAttr(tx[attrPaymentMethod]), txn, now, ans)
	if err != nil {
		return Answer{}, err
	}
	tries64 := tries
	err = s.st.Transact(ctx, []types.TransactWriteItem{
		dynamo.UpdateOp(s.table, txnKey(txn), upd, dynamo.Cond(expression.Name(attrInflight).Equal(expression.Value(action)).
			And(expression.Name(attrTries).Equal(expression.Value(tries64))))),
		s.actionOp(txn, now, ans), ev,
	})
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) {
		// A takeover recorded this try first: its answer is the same PSP outcome.
		it, err := s.item(ctx, txnKey(txn))
		if err != nil {
			return Answer{}, err
		}
		var stored Answer
		if json.Unmarshal([]byte(dynamo.StringAttr(it[attrLastAnswer])), &stored) == nil && stored.Action == action {
			return stored, nil
		}
		return Answer{}, fmt.Errorf("payments: record %s of %s: lost to another request", action, txn)
	}
	if err != nil {
		s.freeSettle(ctx, txn, action)
		return Answer{}, fmt.Errorf("payments: record %s of %s: %w", action, txn, err)
	}
	metrics.Payments.Add(ctx, 1, string(t), action, string(res.Status))
	return ans, nil
}

// freeSettle ends the lease of an in-flight capture or reversal whose
// outcome is not recorded, so the retry takes it over at once with the
// same PSP key. Best effort: the lease expires anyway.
func (s *Service) freeSettle(ctx context.Context, txn, action string) {
	free := expression.Set(expression.Name(attrInflightLease), expression.Value(0))
	if _, _, err := s.update(context.WithoutCancel(ctx), txnKey(txn), free, expression.Name(attrInflight).Equal(expression.Value(action))); err != nil {
		s.log.InfoContext(ctx, "lease not released; it expires", "error", err)
	}
}

// publicStatus is how a transaction's status reads outside: a first call
// still with the PSP is PENDING.
func publicStatus(st string) string {
	if st == statusStarted {
		return string(psp.StatusPending)
	}
	return st
}
