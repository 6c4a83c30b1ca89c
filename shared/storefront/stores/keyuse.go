package stores

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/apikey"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// LastUsedGranularity is how often at most a key's last use is recorded:
// the portal shows "last used" to the minute, and a busy key costs one
// write a minute, not one per request.
const LastUsedGranularity = time.Minute

// lastUsedOf is the last use an index row of a key records (zero: never).
// It is kept as Unix milliseconds, a number, so the write's condition
// compares numbers (RFC 3339 strings with trimmed nanoseconds do not sort).
func lastUsedOf(item map[string]types.AttributeValue) time.Time {
	ms, err := dynamo.IntAttr(item[attrLastUsedAt])
	if err != nil || item[attrLastUsedAt] == nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// keyUse records when store API keys are used, off the request's critical
// path: the write runs beside the request's own work and the request only
// waits for it before it returns (a Lambda is frozen once it answers). A
// container writes at most once a LastUsedGranularity per key (its memo);
// across containers the write's condition keeps it to once a minute.
type keyUse struct {
	st  dynamo.Store
	log *slog.Logger
	mu  sync.Mutex
	at  map[apikey.Digest]time.Time // the last use this container recorded or saw recorded
}

func newKeyUse(st dynamo.Store, log *slog.Logger) *keyUse {
	if log == nil {
		log = slog.Default()
	}
	return &keyUse{st: st, log: log, at: map[apikey.Digest]time.Time{}}
}

// touch starts recording that the key of digest d, of store slug, was used
// at now, unless its last recorded use (seen, as the caller read it; zero
// when unknown) or this container's last record is less than
// LastUsedGranularity old. The returned wait joins the write; its error is
// logged, never returned: a request is not failed for its bookkeeping.
func (u *keyUse) touch(ctx context.Context, slug string, d apikey.Digest, seen, now time.Time) (wait func()) {
	u.mu.Lock()
	last := u.at[d]
	if seen.After(last) {
		last = seen
	}
	if !last.IsZero() && now.Sub(last) < LastUsedGranularity && now.Sub(last) >= 0 {
		u.at[d] = last
		u.mu.Unlock()
		return func() {}
	}
	u.at[d] = now
	u.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := u.write(ctx, slug, d, now); err != nil {
			u.log.WarnContext(ctx, "api key last use not recorded", "store", slug, "key_id", d.ID(), "error", err.Error())
		}
	}()
	return func() { <-done }
}

// write sets the key's lastUsedAt to now unless another container recorded
// a use within the last LastUsedGranularity (then nothing is written).
func (u *keyUse) write(ctx context.Context, slug string, d apikey.Digest, now time.Time) error {
	cutoff := now.Add(-LastUsedGranularity).UnixMilli()
	stale := expression.AttributeNotExists(expression.Name(attrLastUsedAt)).
		Or(expression.Name(attrLastUsedAt).LessThan(expression.Value(cutoff)))
	cond := dynamo.Exists().And(expression.AttributeNotExists(expression.Name(attrRevokedAt))).And(stale)
	e := dynamo.Build(expression.NewBuilder().WithUpdate(expression.Set(expression.Name(attrLastUsedAt), expression.Value(now.UnixMilli()))).
		WithCondition(cond))
	_, err := u.st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &u.st.Tables.Stores, Key: dynamo.PKSK(storePK(slug), keyIndexSK(d.ID())),
		UpdateExpression: e.Update(), ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // recorded by another container within the minute, or revoked meanwhile
	}
	return err
}

// TouchKey records, beside the caller's work, that key (accepted for
// store slug) was used at now; seen is its last use as the caller read it
// (Listing.LastUsed). Call the returned wait before answering.
func (f *Fulfiller) TouchKey(ctx context.Context, slug, key string, seen, now time.Time) (wait func()) {
	return f.use.touch(ctx, slug, apikey.Of(key), seen, now)
}
