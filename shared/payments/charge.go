package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// Idempotency record and transaction attributes.
const (
	attrIdemState   = "idemState"
	attrTxn         = "txn"
	attrPSPKey      = "pspKey"
	attrLeaseUntil  = "leaseUntil" // unix milliseconds; 0: free to take over
	attrAttempts    = "attempts"
	attrAlias       = "alias"
	attrAmount      = "amount"
	attrCurrency    = "currency"
	attrReason      = "reason"
	attrPurchaseID  = "purchaseId"
	attrCustomerID  = "customerId"
	attrAction      = "action"
	attrStatus      = "status"
	attrPSPID       = "pspId"
	attrCaptured    = "captured"
	attrRefunded    = "refunded"
	attrRefundable  = "refundable" // captured, less refunds made and refunds with the PSP
	attrInflight    = "inflight"   // CAPTURE or REVERSAL while one is with the PSP
	attrInflightKey = "inflightKey"
	attrMessage     = "message"

	idemPending = "pending"
	idemDone    = "done"
	// statusStarted is a transaction whose first PSP call has no answer yet.
	statusStarted = "STARTED"
)

// ChargeRequest is a pre-authorization (Capture false) or an authorization.
type ChargeRequest struct {
	Merchant      string
	IdempotentKey string
	// Fingerprint covers the method, path, test mode and body: the same
	// Idempotent-Key with another fingerprint is refused (3021).
	Fingerprint string
	TestMode    bool
	Capture     bool
	AliasID     string
	Amount      int64
	Currency    string
	Reason      string
	PurchaseID  string
	CustomerID  string

	paymentMethod string // the alias's, set by Charge; notifications name it
}

func (r ChargeRequest) action() string {
	if r.Capture {
		return ActionAuth
	}
	return ActionPreauth
}

func txnKey(id string) dynamo.Key { return dynamo.PKSK(dynamo.Tuple("txn", id), mainSK) }

func actionKey(txn string, at time.Time, name string) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("txn", txn), dynamo.Tuple("action", at.UTC().Format("20060102T150405.000000000Z"), name))
}

// Charge pre-authorizes or authorizes, once per Idempotent-Key:
//
//  1. one read of the idempotency record and the alias (BatchGetItem); a
//     recorded answer is answered again, without calling the PSP;
//  2. one TransactWriteItems records the intent (the record, pending, with
//     the PSP idempotency key and a lease; the transaction, STARTED; a check
//     of the alias);
//  3. the PSP is called with that key;
//  4. one TransactWriteItems records the result (record done with the
//     answer, transaction and action row, the merchant's notification).
//
// A duplicate arriving while the first holds the lease waits for its
// answer (up to a few seconds, else ErrInProgress); one arriving after the
// lease expired (the first died) takes the intent over and calls the PSP
// again with the same key, which answers with the first outcome.
func (s *Service) Charge(ctx context.Context, req ChargeRequest) (Answer, error) {
	ik := idemKey(req.Merchant, "charge", req.IdempotentKey)
	for round := 0; ; round++ {
		if round > 3 {
			return Answer{}, refusal.New(ErrInProgress, "Idempotent-Key %s is being used by another request; retry", req.IdempotentKey)
		}
		found, err := s.items(ctx, ik, aliasKey(req.AliasID))
		if err != nil {
			return Answer{}, err
		}
		rec, alias := found[0], found[1]
		req.paymentMethod = dynamo.StringAttr(alias[attrPaymentMethod])
		if rec != nil {
			ans, done, taken, err := s.resume(ctx, rec, req.Fingerprint, ik)
			switch {
			case done:
				return ans, err
			case !taken:
				continue // another request took it over first
			}
			a, c, err := s.adapter(ctx, req.Merchant, psp.Type(dynamo.StringAttr(alias[attrPSPType])), req.TestMode)
			if err != nil {
				return Answer{}, err
			}
			return s.charge(ctx, req, a, c, dynamo.StringAttr(rec[attrTxn]), dynamo.StringAttr(rec[attrPSPKey]), dynamo.StringAttr(alias[attrPSPAlias]))
		}
		if r := aliasRefusal(alias, req.AliasID, req.Merchant, req.TestMode); r != nil {
			return Answer{}, r
		}
		if !req.Capture && dynamo.StringAttr(alias[attrPaymentMethod]) == "SEPA" {
			return Answer{}, refusal.New(ErrSEPAPreauth, "a SEPA alias cannot be pre-authorized; authorize instead")
		}
		t := psp.Type(dynamo.StringAttr(alias[attrPSPType]))
		a, c, err := s.adapter(ctx, req.Merchant, t, req.TestMode)
		if err != nil {
			return Answer{}, err
		}
		txn, err := newID("tx")
		if err != nil {
			return Answer{}, err
		}
		// The transaction id is new and recorded with the intent, so the key
		// is the same for every retry of this charge and no other's, even
		// across deployments sharing a PSP account.
		key := pspKey("charge", txn)
		err = s.st.Transact(ctx, s.intentOps(req, ik, txn, key, t))
		var failed *dynamo.ConditionFailedError
		switch {
		case err == nil:
			return s.charge(ctx, req, a, c, txn, key, dynamo.StringAttr(alias[attrPSPAlias]))
		case errors.As(err, &failed) && failed.Failed(0):
			continue // a concurrent duplicate recorded its intent first
		case errors.As(err, &failed):
			continue // the alias changed since it was read: explain from a fresh read
		}
		// The write's outcome is unknown (its answer may have been lost):
		// free the lease, so the merchant's retry takes the intent over at
		// once if it was written.
		s.releaseLease(ctx, ik)
		return Answer{}, fmt.Errorf("payments: record the intent: %w", err)
	}
}

func (s *Service) intentOps(req ChargeRequest, ik dynamo.Key, txn, key string, t psp.Type) []types.TransactWriteItem {
	now := s.now()
	idem := intent(ik, req.Fingerprint, txn, key, now)
	tx := map[string]types.AttributeValue{
		attrMerchant: dynamo.S(req.Merchant), attrAlias: dynamo.S(req.AliasID), attrPSPType: dynamo.S(string(t)), attrTestMode: dynamo.Bool(req.TestMode),
		attrAmount: dynamo.N(req.Amount), attrCurrency: dynamo.S(req.Currency), attrAction: dynamo.S(req.action()), attrStatus: dynamo.S(statusStarted),
		attrCaptured: dynamo.N(0), attrRefunded: dynamo.N(0), attrRefundable: dynamo.N(0), attrCreatedAt: dynamo.Time(now), attrUpdatedAt: dynamo.Time(now),
		attrPaymentMethod: dynamo.S(req.paymentMethod),
	}
	for name, v := range map[string]string{attrReason: req.Reason, attrPurchaseID: req.PurchaseID, attrCustomerID: req.CustomerID} {
		if v != "" {
			tx[name] = dynamo.S(v)
		}
	}
	for k, v := range txnKey(txn) {
		tx[k] = v
	}
	aliasOK := expression.Name(attrMerchant).Equal(expression.Value(req.Merchant)).
		And(expression.Name(attrState).Equal(expression.Value(aliasExchanged))).
		And(expression.Name(attrTestMode).Equal(expression.Value(req.TestMode)))
	return []types.TransactWriteItem{dynamo.PutNewOp(s.table, idem), dynamo.PutNewOp(s.table, tx), dynamo.CheckOp(s.table, aliasKey(req.AliasID), aliasOK)}
}

// charge calls the PSP and records its outcome.
func (s *Service) charge(ctx context.Context, req ChargeRequest, a psp.Adapter, c psp.Credentials, txn, key, pspAlias string) (Answer, error) {
	res, err := a.Charge(ctx, c, psp.Charge{IdempotencyKey: key, PSPAlias: pspAlias, Amount: req.Amount, Currency: req.Currency,
		Reason: req.Reason, Capture: req.Capture, Metadata: map[string]string{"tollgate_transaction": txn, "tollgate_merchant": req.Merchant}})
	ik := idemKey(req.Merchant, "charge", req.IdempotentKey)
	if err != nil {
		return Answer{}, s.unanswered(ctx, ik, "call", txn, err)
	}
	ans := answerOf(txn, req.Amount, req.Currency, req.action(), res)
	captured := int64(0)
	if req.Capture && res.Status == psp.StatusSuccess {
		captured = req.Amount
	}
	out, err := s.record(ctx, req.Merchant, req.paymentMethod, ik, txn, ans, res, captured)
	if err == nil {
		metrics.Payments.Add(ctx, 1, string(a.Type()), req.action(), string(res.Status))
	}
	var ref *refusal.Error
	if err != nil && !errors.As(err, &ref) {
		// The PSP acted but its outcome is not recorded: let the retry take
		// the intent over now; it gets the same outcome from the PSP.
		s.releaseLease(ctx, ik)
	}
	return out, err
}

// record writes a charge's outcome: the idempotency record's answer, the
// transaction's state, an action row and the merchant's notification, in
// one transaction conditional on the record still pending (a takeover that
// already recorded wins, and its answer is answered).
func (s *Service) record(ctx context.Context, merchant, method string, ik dynamo.Key, txn string, ans Answer, res psp.Result, captured int64) (Answer, error) {
	body, err := jsonAnswer(ans)
	if err != nil {
		return Answer{}, err
	}
	now := s.now()
	txnSet := map[string]types.AttributeValue{attrStatus: dynamo.S(ans.Status), attrCaptured: dynamo.N(captured), attrRefundable: dynamo.N(captured), attrUpdatedAt: dynamo.Time(now)}
	if res.PSPTransactionID != "" {
		txnSet[attrPSPID] = dynamo.S(res.PSPTransactionID)
	}
	ops := []types.TransactWriteItem{
		s.answerOp(ik, body),
		dynamo.UpdateOp(s.table, txnKey(txn), dynamo.SetAll(txnSet), dynamo.Cond(expression.Name(attrStatus).Equal(expression.Value(statusStarted)))),
		s.actionOp(txn, now, ans),
	}
	if ev, err := s.event(merchant, method, txn, now, ans); err == nil {
		ops = append(ops, ev)
	} else {
		return Answer{}, err
	}
	err = s.st.Transact(ctx, ops)
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		return ans, nil
	case errors.As(err, &failed):
		rec, err := s.item(ctx, ik)
		if err != nil {
			return Answer{}, err
		}
		if dynamo.StringAttr(rec[attrIdemState]) == idemDone {
			return decodeAnswer(rec)
		}
		return Answer{}, fmt.Errorf("payments: record outcome of %s: conditions failed on %v", txn, failed.Indexes)
	}
	return Answer{}, fmt.Errorf("payments: record outcome of %s: %w", txn, err)
}

func (s *Service) actionOp(txn string, at time.Time, ans Answer) types.TransactWriteItem {
	row := map[string]types.AttributeValue{
		attrAction: dynamo.S(ans.Action), attrStatus: dynamo.S(ans.Status), attrAmount: dynamo.N(ans.Amount), attrCreatedAt: dynamo.Time(at),
	}
	if ans.AdditionalInfo != "" {
		row[attrMessage] = dynamo.S(ans.AdditionalInfo)
	}
	for k, v := range actionKey(txn, at, ans.Action) {
		row[k] = v
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: row}}
}

// event is the merchant's notification of a state change, in the
// original's shape, enqueued with the change.
func (s *Service) event(merchant, method, txn string, at time.Time, ans Answer) (types.TransactWriteItem, error) {
	payload, err := json.Marshal(map[string]any{"notifications": []map[string]any{{
		"transactionId": txn, "transactionStatus": ans.Status, "transactionAction": ans.Action, "paymentMethod": method,
		"amount": ans.Amount, "currency": ans.Currency, "reason": ans.AdditionalInfo, "notificationCreatedDate": at.UTC().Format(time.RFC3339Nano),
	}}})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return outbox.EnqueueOp(s.outbox, outbox.Event{
		ID: dynamo.Tuple("payments", txn, ans.Action, at.UTC().Format(time.RFC3339Nano)), Recipient: dynamo.Tuple(RecipientKind, merchant),
		Type: "payment." + ans.Action + "." + ans.Status, Payload: payload, At: at,
		OrderingKey: dynamo.Tuple("payments", merchant, txn), // a transaction's notifications arrive in order
	})
}

// recorded answers from an idempotency record: its answer when done (done
// true), a refusal when the fingerprint differs; for a pending record held
// by a live request it waits for the answer. done false: the record is
// pending and its lease has expired (take it over).
func (s *Service) recorded(ctx context.Context, rec map[string]types.AttributeValue, fp string, ik dynamo.Key) (Answer, bool, error) {
	if dynamo.StringAttr(rec[attrFingerprint]) != fp {
		return Answer{}, true, refusal.New(ErrIdempotency, "Keys for idempotent requests can only be used with the same parameters they were first used with")
	}
	deadline := s.now().Add(waitForTwin)
	for {
		if dynamo.StringAttr(rec[attrIdemState]) == idemDone {
			ans, err := decodeAnswer(rec)
			return ans, true, err
		}
		until, _ := dynamo.IntAttr(rec[attrLeaseUntil])
		if until <= s.now().UnixMilli() {
			return Answer{}, false, nil
		}
		if !s.now().Before(deadline) {
			return Answer{}, true, refusal.New(ErrInProgress, "the first request with this Idempotent-Key is still with the PSP; retry in a few seconds")
		}
		select {
		case <-ctx.Done():
			return Answer{}, true, ctx.Err()
		case <-time.After(s.pollEvery):
		}
		var err error
		if rec, err = s.item(ctx, ik); err != nil {
			return Answer{}, true, err
		}
	}
}

// resume goes on from an existing idempotency record: done, the request is
// answered from it (its answer, a refusal or an error); taken, it took over
// the record's expired intent, to call the PSP again with the record's key;
// neither, another request took the intent over first (read it again).
func (s *Service) resume(ctx context.Context, rec map[string]types.AttributeValue, fp string, ik dynamo.Key) (ans Answer, done, taken bool, err error) {
	if ans, done, err = s.recorded(ctx, rec, fp, ik); done || err != nil {
		return ans, true, false, err
	}
	taken, err = s.takeOver(ctx, ik, rec)
	return Answer{}, err != nil, taken, err
}

// intent is the idempotency record of a new intent: pending, with the
// PSP's idempotency key, its transaction and the first attempt's lease.
func intent(ik dynamo.Key, fp, txn, key string, now time.Time) map[string]types.AttributeValue {
	idem := map[string]types.AttributeValue{
		attrFingerprint: dynamo.S(fp), attrIdemState: dynamo.S(idemPending), attrTxn: dynamo.S(txn),
		attrPSPKey: dynamo.S(key), attrLeaseUntil: dynamo.N(now.Add(lease).UnixMilli()), attrAttempts: dynamo.N(1), attrCreatedAt: dynamo.Time(now),
	}
	for k, v := range ik {
		idem[k] = v
	}
	return idem
}

// answerOp records the answer body on the idempotency record ik,
// conditional on the record still pending (a takeover that recorded first
// wins).
func (s *Service) answerOp(ik dynamo.Key, body string) types.TransactWriteItem {
	upd := dynamo.RemoveAll(dynamo.SetAll(map[string]types.AttributeValue{attrIdemState: dynamo.S(idemDone), attrAnswer: dynamo.S(body)}), attrLeaseUntil)
	return dynamo.UpdateOp(s.table, ik, upd, dynamo.Cond(expression.Name(attrIdemState).Equal(expression.Value(idemPending))))
}

// unanswered is the refusal of a request whose PSP call (call: what it
// asked) got no answer: the intent stays recorded and its lease is freed,
// so the merchant's retry calls again at once with the same key.
func (s *Service) unanswered(ctx context.Context, ik dynamo.Key, call, txn string, err error) error {
	s.releaseLease(ctx, ik)
	s.log.WarnContext(ctx, "PSP "+call+" failed; the intent stays recorded and a retry calls again with the same key", "transaction", txn, "error", err)
	return refusal.New(ErrPSP, "the PSP did not answer; retry with the same Idempotent-Key")
}

// takeOver claims an expired lease; false when another request claimed it.
func (s *Service) takeOver(ctx context.Context, ik dynamo.Key, rec map[string]types.AttributeValue) (bool, error) {
	old, _ := dynamo.IntAttr(rec[attrLeaseUntil])
	upd := expression.Set(expression.Name(attrLeaseUntil), expression.Value(s.now().Add(lease).UnixMilli())).
		Add(expression.Name(attrAttempts), expression.Value(1))
	cond := expression.Name(attrIdemState).Equal(expression.Value(idemPending)).And(expression.Name(attrLeaseUntil).Equal(expression.Value(old)))
	err := s.st.Transact(ctx, []types.TransactWriteItem{dynamo.UpdateOp(s.table, ik, upd, dynamo.Cond(cond))})
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("payments: take over %s: %w", dynamo.StringAttr(ik[dynamo.AttrPK]), err)
	}
	return true, nil
}

// releaseLease frees a pending intent after a failed PSP call so the
// merchant's immediate retry takes it over instead of waiting for the
// lease. Best effort: the lease expires anyway.
func (s *Service) releaseLease(ctx context.Context, ik dynamo.Key) {
	upd := expression.Set(expression.Name(attrLeaseUntil), expression.Value(0))
	cond := expression.Name(attrIdemState).Equal(expression.Value(idemPending))
	if err := s.st.Transact(context.WithoutCancel(ctx), []types.TransactWriteItem{dynamo.UpdateOp(s.table, ik, upd, dynamo.Cond(cond))}); err != nil {
		s.log.InfoContext(ctx, "lease not released; it expires", "error", err)
	}
}

func decodeAnswer(rec map[string]types.AttributeValue) (Answer, error) {
	var ans Answer
	if err := json.Unmarshal([]byte(dynamo.StringAttr(rec[attrAnswer])), &ans); err != nil {
		return Answer{}, fmt.Errorf("payments: unreadable answer in %s: %w", dynamo.StringAttr(rec[dynamo.AttrPK]), err)
	}
	return ans, nil
}

func jsonAnswer(a Answer) (string, error) {
	b, err := json.Marshal(a)
	return string(b), err
}
