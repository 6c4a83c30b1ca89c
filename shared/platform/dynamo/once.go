package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Record is the idempotency record of one effect, kept in the transactions
// table under Key. A later request with the same Key is answered from it.
type Record struct {
	Key         string                          // unique per effect, e.g. "authorization#<transactionId>"
	Fingerprint string                          // digest of what was asked; the same Key with another fingerprint is a conflict
	Response    []byte                          // body that was answered
	CreatedAt   time.Time                       // required, from the caller's injected clock (ApplyOnce refuses zero)
	ExpiresAt   time.Time                       // zero: kept for good
	Attributes  map[string]types.AttributeValue // extra attributes kept for reconciliation
}

// Outcome says what ApplyOnce did.
type Outcome int

// Outcomes of ApplyOnce.
const (
	Applied  Outcome = iota + 1 // the record and the effects were written now
	Replayed                    // an earlier request with the same fingerprint already applied them
	Conflict                    // the key was used before by a different request
)

func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Replayed:
		return "replayed"
	case Conflict:
		return "conflict"
	}
	return "unknown"
}

// EffectFailedError reports that the record was new but the condition of one
// or more effects failed, so nothing was written.
type EffectFailedError struct {
	Indexes []int // positions in the effects slice whose condition failed
}

func (e *EffectFailedError) Error() string {
	return fmt.Sprintf("transaction cancelled: conditions of effects %v failed", e.Indexes)
}

// ApplyOnce writes rec and effects in one TransactWriteItems, conditional on
// rec.Key being new: the exactly-once write of an effect made only of
// DynamoDB writes whose answer is known before they are written (the
// package documentation says which writes take another shape, and why). If the key exists, the stored record is returned with
// Replayed when its fingerprint equals rec's and Conflict otherwise; nothing
// is written in either case. On DynamoDB it costs one call either way (more
// only when a TransactionConflict makes Transact send it again): a failed
// condition returns the stored record in the cancellation reason
// (ReturnValuesOnConditionCheckFailure ALL_OLD). Only an emulator that leaves
// the record out costs a second call, a GetItem reading it back.
//
// rec must have a Key and a CreatedAt taken from the caller's injected
// clock: ApplyOnce never reads the wall clock, so what a test's clock says
// is what is stored.
func (s Store) ApplyOnce(ctx context.Context, rec Record, effects []types.TransactWriteItem) (Outcome, Record, error) {
	switch {
	case rec.Key == "":
		return 0, Record{}, errors.New("apply once: the record has no key")
	case rec.CreatedAt.IsZero():
		return 0, Record{}, fmt.Errorf("apply once %s: the record has no CreatedAt (set it from the injected clock)", rec.Key)
	}
	items := make([]types.TransactWriteItem, 0, len(effects)+1)
	items = append(items, PutNewOp(s.Tables.Transactions, rec.item()))
	items = append(items, effects...)

	err := s.Transact(ctx, items)
	if err == nil {
		return Applied, rec, nil
	}
	var failed *ConditionFailedError
	if !errors.As(err, &failed) {
		return 0, Record{}, fmt.Errorf("transact %s: %w", rec.Key, err)
	}
	if failed.Failed(0) {
		stored, err := s.storedRecord(ctx, rec.Key, failed.Items[0])
		if err != nil {
			return 0, Record{}, err
		}
		if stored.Fingerprint == rec.Fingerprint {
			return Replayed, stored, nil
		}
		return Conflict, stored, nil
	}
	failedEffects := make([]int, 0, len(failed.Indexes))
	for _, i := range failed.Indexes {
		failedEffects = append(failedEffects, i-1)
	}
	return 0, Record{}, &EffectFailedError{Indexes: failedEffects}
}

// Get reads the record stored under key with a strongly consistent read.
func (s Store) Get(ctx context.Context, key string) (Record, error) {
	return s.storedRecord(ctx, key, nil)
}

func (s Store) storedRecord(ctx context.Context, key string, returned map[string]types.AttributeValue) (Record, error) {
	if len(returned) > 0 {
		return recordFromItem(returned)
	}
	item, err := s.RecordItem(ctx, key)
	if err != nil {
		return Record{}, err
	}
	if len(item) == 0 {
		return Record{}, fmt.Errorf("read record %s: %w", key, ErrNotFound)
	}
	return recordFromItem(item)
}

// RecordItem reads the item stored under key in the transactions table,
// strongly consistent, as stored (nil when there is none): the owners of
// the records kept there parse their own attributes.
func (s Store) RecordItem(ctx context.Context, key string) (map[string]types.AttributeValue, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Tables.Transactions),
		Key:            PK(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("read record %s: %w", key, err)
	}
	return out.Item, nil
}

func (r Record) item() map[string]types.AttributeValue {
	item := make(map[string]types.AttributeValue, len(r.Attributes)+6)
	for k, v := range r.Attributes {
		item[k] = v
	}
	item[AttrPK] = S(r.Key)
	item["fingerprint"] = S(r.Fingerprint)
	item["response"] = B(r.Response)
	item[AttrCreatedAt] = Time(r.CreatedAt)
	if !r.ExpiresAt.IsZero() {
		item[AttrExpiresAt] = N(r.ExpiresAt.Unix())
	}
	return item
}

func recordFromItem(item map[string]types.AttributeValue) (Record, error) {
	// The key is read first: map order is random, and the errors below name it.
	r := Record{Key: StringAttr(item[AttrPK]), Attributes: map[string]types.AttributeValue{}}
	if r.Key == "" {
		return Record{}, fmt.Errorf("record without %s", AttrPK)
	}
	for k, v := range item {
		switch k {
		case AttrPK: // read above
		case "fingerprint":
			r.Fingerprint = StringAttr(v)
		case "response":
			r.Response = BytesAttr(v)
		case AttrCreatedAt:
			var err error
			if r.CreatedAt, err = TimeAttr(v); err != nil {
				return Record{}, fmt.Errorf("record %s: %s: %w", r.Key, AttrCreatedAt, err)
			}
		case AttrExpiresAt:
			if sec, err := IntAttr(v); err == nil {
				r.ExpiresAt = time.Unix(sec, 0)
			}
		default:
			r.Attributes[k] = v
		}
	}
	return r, nil
}
