package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/retry"
)

// transactionConflictAttempts bounds how often Transact re-sends a
// transaction that DynamoDB cancelled because another transaction held one of
// its items. With the back-off (about 10 ms doubling to 160 ms) six attempts
// wait at most about 0.3 s in all: long enough for a racing transaction to
// commit, short against the Lambda timeout and the caller's patience.
const transactionConflictAttempts = 6

// ConditionFailedError reports a transaction cancelled because conditions
// failed; nothing was written.
type ConditionFailedError struct {
	Indexes []int                                   // positions in the transaction whose condition failed
	Items   map[int]map[string]types.AttributeValue // the item as it was, where the store returned it (ALL_OLD)
}

func (e *ConditionFailedError) Error() string {
	return fmt.Sprintf("transaction cancelled: conditions of items %v failed", e.Indexes)
}

// Failed reports whether the condition of item i failed.
func (e *ConditionFailedError) Failed(i int) bool {
	for _, j := range e.Indexes {
		if j == i {
			return true
		}
	}
	return false
}

// Transact runs items as one TransactWriteItems. When DynamoDB cancels it
// because another transaction held one of its items, it is sent again
// (bounded, with jittered back-off). When conditions fail it returns a
// *ConditionFailedError naming them; nothing was written.
func (s Store) Transact(ctx context.Context, items []types.TransactWriteItem) error {
	_, err := retry.Do(ctx, conflictRetry, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.transactOnce(ctx, items)
	})
	return err
}

// conflictRetry re-sends a transaction that only TransactionConflicts
// cancelled, with back-off from about 10 ms to 160 ms.
var conflictRetry = retry.Policy{
	Attempts:  transactionConflictAttempts,
	Retryable: func(err error) bool { var c *conflictError; return errors.As(err, &c) },
	Backoff:   retry.Jittered(10*time.Millisecond, 160*time.Millisecond),
}

// conflictError is a transaction cancelled only because other transactions
// held its items: sending it again may succeed.
type conflictError struct{ err error }

func (e *conflictError) Error() string { return e.err.Error() }
func (e *conflictError) Unwrap() error { return e.err }

func (s Store) transactOnce(ctx context.Context, items []types.TransactWriteItem) error {
	_, err := s.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return err
	}
	failed := &ConditionFailedError{Items: map[int]map[string]types.AttributeValue{}}
	conflicted := false
	for i, r := range tce.CancellationReasons {
		switch code(r) {
		case "ConditionalCheckFailed":
			failed.Indexes = append(failed.Indexes, i)
			if len(r.Item) > 0 {
				failed.Items[i] = r.Item
			}
		case "TransactionConflict":
			conflicted = true
		}
	}
	switch {
	case len(failed.Indexes) > 0:
		return failed
	case conflicted:
		return &conflictError{err: err}
	}
	return err
}

func code(r types.CancellationReason) string { return aws.ToString(r.Code) }
