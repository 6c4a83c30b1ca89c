package outbox

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/retry"
)

// Delivery states and attributes. A claimed event keeps status pending; its
// dueAt moves to the end of the lease, so a crashed dispatcher's event is
// due again once the lease ends and concurrent dispatchers, whose claims
// require dueAt <= now, never hold it at the same time.
const (
	StatusDelivered = "delivered"
	StatusDead      = "dead"
	// StatusUndeliverable is an event whose recipient had no webhook target
	// (no URL or no secret set) when it was due: not retried, since no
	// wait cures it; replayed (Replay) once the recipient has a URL.
	StatusUndeliverable = "undeliverable"

	attrLease       = "lease"       // the claim's token while an attempt runs
	attrDeliveredAt = "deliveredAt" // when a 2xx was received
	attrLastError   = "lastError"   // the last failed attempt's reason
	attrWindowFrom  = "windowFrom"  // a replay restarts the retry window
	// attrSendingAt: an attempt through a service without idempotency
	// keys (an email) is about to call it; removed with its outcome. Found
	// on a claimed event, the earlier attempt's outcome is unknown.
	attrSendingAt = "sendingAt"
	attrSentRef   = "sentRef" // the service's id of what it sent (SES MessageId)
	attrDeadAt    = "deadAt"  // when a refusal made the event dead at once
)

// Retry policy defaults.
const (
	DefaultBackoff    = 30 * time.Second
	DefaultMaxBackoff = time.Hour
	DefaultWindow     = 72 * time.Hour
	DefaultLease      = 2 * time.Minute
)

// Box reads and moves the events of the outbox table for delivery.
type Box struct {
	DB    *dynamodb.Client
	Table string
}

// Claim is an event held by one dispatcher for one attempt.
type Claim struct {
	Stored
	token string
}

// Due lists up to limit pending events due at or before now, oldest first:
// the oldest of each of the index's DueShards partitions (one Query each),
// merged. The index is eventually consistent: Claim decides.
func (b Box) Due(ctx context.Context, now time.Time, limit int32) ([]Stored, error) {
	var events []Stored
	for shard := range DueShards {
		e := dynamo.Build(expression.NewBuilder().WithKeyCondition(
			expression.Key(attrDuePK).Equal(expression.Value(dynamo.Tuple("due", fmt.Sprint(shard)))).
				And(expression.Key(attrDueAt).LessThanEqual(expression.Value(now.UnixMilli())))))
		out, err := b.DB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(b.Table), IndexName: aws.String(IndexDue),
			KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			Limit: aws.Int32(limit)})
		if err != nil {
			return nil, fmt.Errorf("outbox: list due events: %w", err)
		}
		for _, item := range out.Items {
			s, err := FromItem(item)
			if err != nil {
				return nil, err
			}
			events = append(events, s)
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].DueAt.Before(events[j].DueAt) })
	if len(events) > int(limit) {
		events = events[:limit]
	}
	return events, nil
}

// Claim takes event id for one attempt until now+lease, only if it is
// pending and due at now. ok false: another dispatcher holds it, or it is
// no longer due.
func (b Box) Claim(ctx context.Context, id string, now time.Time, lease time.Duration) (Claim, bool, error) {
	return b.claim(ctx, id, now, lease, b.dueCond(now))
}

// ClaimAfter is Claim of an event that may also be taken before it is due
// because it waits for one of the events of after (BlockedBy), whose
// outcomes have just been recorded: the next event of an ordering key
// follows at once. after holds 1 to 100 ids.
func (b Box) ClaimAfter(ctx context.Context, id string, after []string, now time.Time, lease time.Duration) (Claim, bool, error) {
	if len(after) == 0 || len(after) > 100 {
		return b.Claim(ctx, id, now, lease)
	}
	values := make([]expression.OperandBuilder, 0, len(after))
	for _, a := range after {
		values = append(values, expression.Value(a))
	}
	var waited expression.ConditionBuilder
	if len(values) == 1 {
		waited = expression.Name(attrBlockedBy).Equal(values[0])
	} else {
		waited = expression.Name(attrBlockedBy).In(values[0], values[1:]...)
	}
	cond := expression.Name(attrStatus).Equal(expression.Value(StatusPending)).
		And(expression.Name(attrDueAt).LessThanEqual(expression.Value(now.UnixMilli())).Or(waited))
	return b.claim(ctx, id, now, lease, cond)
}

func (b Box) dueCond(now time.Time) expression.ConditionBuilder {
	return expression.Name(attrStatus).Equal(expression.Value(StatusPending)).
		And(expression.Name(attrDueAt).LessThanEqual(expression.Value(now.UnixMilli())))
}

func (b Box) claim(ctx context.Context, id string, now time.Time, lease time.Duration, cond expression.ConditionBuilder) (Claim, bool, error) {
	token := newToken()
	update := dynamo.RemoveAll(dynamo.SetAll(map[string]types.AttributeValue{attrDueAt: dynamo.N(now.Add(lease).UnixMilli()), attrLease: dynamo.S(token)}),
		attrBlockedBy)
	item, ok, err := b.update(ctx, id, update, cond)
	if err != nil || !ok {
		return Claim{}, false, err
	}
	s, err := FromItem(item)
	if err != nil {
		return Claim{}, false, err
	}
	return Claim{Stored: s, token: token}, true, nil
}

// Blocker finds the oldest event created before s with s's ordering key
// that is still pending (found false: none, or s has no key). The index
// names candidates; each is confirmed by a consistent read, so an event
// the index still shows pending after its delivery does not hold s back.
func (b Box) Blocker(ctx context.Context, s Stored) (Stored, bool, error) {
	if s.OrderingKey == "" {
		return Stored{}, false, nil
	}
	return b.firstPending(ctx, s, expression.Key(attrOrderSeq).LessThan(expression.Value(s.orderSeq)), true)
}

// NextInOrder finds the oldest pending event created after s with s's
// ordering key, as the index shows it (found false: none, or s has no
// key); ClaimAfter decides.
func (b Box) NextInOrder(ctx context.Context, s Stored) (Stored, bool, error) {
	if s.OrderingKey == "" {
		return Stored{}, false, nil
	}
	return b.firstPending(ctx, s, expression.Key(attrOrderSeq).GreaterThan(expression.Value(s.orderSeq)), false)
}

// firstPending is the first event of s's ordering key in the range seq
// that the index shows pending (confirm: and a consistent read confirms).
func (b Box) firstPending(ctx context.Context, s Stored, seq expression.KeyConditionBuilder, confirm bool) (Stored, bool, error) {
	e := dynamo.Build(expression.NewBuilder().
		WithKeyCondition(expression.Key(attrOrderKey).Equal(expression.Value(s.OrderingKey)).And(seq)).
		WithFilter(expression.Name(attrStatus).Equal(expression.Value(StatusPending))))
	p := dynamodb.NewQueryPaginator(b.DB, &dynamodb.QueryInput{TableName: aws.String(b.Table), IndexName: aws.String(IndexOrdered),
		KeyConditionExpression: e.KeyCondition(), FilterExpression: e.Filter(), ExpressionAttributeNames: e.Names(),
		ExpressionAttributeValues: e.Values(), ScanIndexForward: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return Stored{}, false, fmt.Errorf("outbox: events of ordering key of %s: %w", s.ID, err)
		}
		for _, item := range out.Items {
			candidate, err := FromItem(item)
			if err != nil || !confirm {
				return candidate, err == nil, err
			}
			now, ok, err := b.Get(ctx, candidate.ID)
			if err != nil {
				return Stored{}, false, err
			}
			if ok && now.Status == StatusPending {
				return now, true, nil
			}
		}
	}
	return Stored{}, false, nil
}

// DeferSlack is how long after its blocker is next due a deferred event
// is due again (ClaimAfter takes it earlier when the blocker completes).
const DeferSlack = time.Second

// Defer gives back c, held back by blocker (an earlier pending event of
// its ordering key), without counting an attempt: due again once the
// blocker is next due (plus DeferSlack), or as soon as the blocker's
// outcome is recorded (ClaimAfter). ok false: the lease was lost.
func (b Box) Defer(ctx context.Context, c Claim, blocker Stored, now time.Time) (bool, error) {
	until := now
	if blocker.DueAt.After(until) {
		until = blocker.DueAt
	}
	update := dynamo.RemoveAll(dynamo.SetAll(map[string]types.AttributeValue{attrDueAt: dynamo.N(until.Add(DeferSlack).UnixMilli()),
		attrBlockedBy: dynamo.S(blocker.ID)}), attrLease)
	_, ok, err := b.update(ctx, c.ID, update, b.held(c))
	return ok, err
}

// Delivered records that c's recipient answered 2xx: the event leaves the
// due index. ok false: the lease was lost (another attempt took over).
func (b Box) Delivered(ctx context.Context, c Claim, now time.Time) (bool, error) {
	return b.Sent(ctx, c, now, "")
}

// Sent is Delivered with the service's id of what it sent (ref, "" none),
// ending an attempt Sending began.
func (b Box) Sent(ctx context.Context, c Claim, now time.Time, ref string) (bool, error) {
	set := map[string]types.AttributeValue{attrStatus: dynamo.S(StatusDelivered), attrDeliveredAt: dynamo.Time(now)}
	if ref != "" {
		set[attrSentRef] = dynamo.S(ref)
	}
	update := dynamo.RemoveAll(dynamo.SetAll(set), attrDuePK, attrDueAt, attrLease, attrLastError, attrSendingAt)
	_, ok, err := b.update(ctx, c.ID, update, b.held(c))
	return ok, err
}

// Sending records, before the call, that c's attempt is about to call a
// service that has no idempotency key (SES SendEmail): counted as an
// attempt, so a claim that finds it (Claim.SendingAt) knows an earlier
// attempt may have sent without its outcome being recorded. ok false: the
// lease was lost (nothing may be sent).
func (b Box) Sending(ctx context.Context, c Claim, now time.Time) (bool, error) {
	update := dynamo.SetAll(map[string]types.AttributeValue{attrSendingAt: dynamo.Time(now), attrAttempts: dynamo.N(c.Attempts + 1)})
	_, ok, err := b.update(ctx, c.ID, update, b.held(c))
	return ok, err
}

// Dead records that c's attempt was refused in a way no retry changes (a
// mail service's refusal of the address): dead at once with the reason,
// until replayed. ok false: the lease was lost.
func (b Box) Dead(ctx context.Context, c Claim, now time.Time, reason string) (bool, error) {
	update := dynamo.RemoveAll(dynamo.SetAll(map[string]types.AttributeValue{attrStatus: dynamo.S(StatusDead),
		attrAttempts: dynamo.N(c.Attempts + 1), attrLastError: dynamo.S(truncate(reason, 500)), attrDeadAt: dynamo.Time(now),
		attrDuePK: dynamo.S(deadPK(c.Recipient)), attrDueAt: dynamo.N(now.UnixMilli())}),
		attrLease, attrSendingAt)
	_, ok, err := b.update(ctx, c.ID, update, b.held(c))
	return ok, err
}

// Policy is the retry schedule of failed attempts.
type Policy struct {
	Backoff, MaxBackoff, Window time.Duration
	// Jitter returns a number in [0, 1); nil: math/rand.
	Jitter func() float64
}

// Next is when attempt number attempts+1 is due after attempts failed ones:
// Backoff doubling per attempt, capped at MaxBackoff, the second half
// jittered so failed receivers are not hit in lockstep.
func (p Policy) Next(attempts int64) time.Duration {
	j := rand.Float64
	if p.Jitter != nil {
		j = p.Jitter
	}
	return retry.Exponential(p.Backoff, p.MaxBackoff, int(attempts), func(half time.Duration) time.Duration {
		return time.Duration(j() * float64(half))
	})
}

// DefaultPolicy is 30 s doubling to 1 h, for 3 days.
var DefaultPolicy = Policy{Backoff: DefaultBackoff, MaxBackoff: DefaultMaxBackoff, Window: DefaultWindow}

// Failed records a failed attempt of c: due again after the policy's
// backoff, or dead once the next attempt would fall past the retry window
// (from creation, or from the last replay). It answers the status written.
func (b Box) Failed(ctx context.Context, c Claim, now time.Time, reason string, p Policy) (string, error) {
	attempts := c.Attempts + 1
	next := now.Add(p.Next(attempts))
	values := map[string]types.AttributeValue{attrAttempts: dynamo.N(attempts), attrLastError: dynamo.S(truncate(reason, 500))}
	status := StatusPending
	var update expression.UpdateBuilder
	if next.After(c.windowStart().Add(p.Window)) {
		status = StatusDead
		values[attrStatus] = dynamo.S(StatusDead)
		values[attrDuePK], values[attrDueAt] = dynamo.S(deadPK(c.Recipient)), dynamo.N(now.UnixMilli())
		update = dynamo.RemoveAll(dynamo.SetAll(values), attrLease, attrSendingAt)
	} else {
		values[attrDueAt] = dynamo.N(next.UnixMilli())
		update = dynamo.RemoveAll(dynamo.SetAll(values), attrLease, attrSendingAt)
	}
	ok, err := func() (bool, error) { _, ok, err := b.update(ctx, c.ID, update, b.held(c)); return ok, err }()
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("outbox: event %s: lease lost before its failure was recorded", c.ID)
	}
	return status, nil
}

// Undeliverable records that c's recipient has no webhook target: the
// event leaves the due index, counting the attempt, until replayed. ok
// false: the lease was lost.
func (b Box) Undeliverable(ctx context.Context, c Claim, now time.Time, reason string) (bool, error) {
	update := dynamo.RemoveAll(dynamo.SetAll(map[string]types.AttributeValue{attrStatus: dynamo.S(StatusUndeliverable),
		attrAttempts: dynamo.N(c.Attempts + 1), attrLastError: dynamo.S(truncate(reason, 500)),
		attrDuePK: dynamo.S(deadPK(c.Recipient)), attrDueAt: dynamo.N(now.UnixMilli())}), attrLease)
	_, ok, err := b.update(ctx, c.ID, update, b.held(c))
	return ok, err
}

// Release gives c back without counting an attempt, due again at now:
// the attempt was interrupted (a shutdown) before it had an outcome. ok
// false: the lease was lost.
func (b Box) Release(ctx context.Context, c Claim, now time.Time) (bool, error) {
	update := dynamo.RemoveAll(dynamo.SetAll(map[string]types.AttributeValue{attrDueAt: dynamo.N(now.UnixMilli())}), attrLease)
	_, ok, err := b.update(ctx, c.ID, update, b.held(c))
	return ok, err
}

// ErrNotFound is the reason of a replay of an unknown event.
var ErrNotFound = errors.New("outbox: no such event")

// Replay makes event id due now, whatever its state (dead, delivered or
// pending), with a fresh retry window.
func (b Box) Replay(ctx context.Context, id string, now time.Time) error {
	return b.updateEvent(ctx, id, replayUpdate(id, now))
}

func replayUpdate(id string, now time.Time) expression.UpdateBuilder {
	return dynamo.RemoveAll(dynamo.SetAll(map[string]types.AttributeValue{attrStatus: dynamo.S(StatusPending), attrDuePK: dynamo.S(duePK(id)),
		attrDueAt: dynamo.N(now.UnixMilli()), attrAttempts: dynamo.N(0), attrWindowFrom: dynamo.Time(now)}), attrLease, attrBlockedBy, attrSendingAt)
}

// ReplayOp is Replay of event id as a transaction item, conditional on
// the event being recipient's (a portal replays only its store's events;
// the caller reads a failed Failed(i) as "no such event").
func ReplayOp(table, id, recipient string, now time.Time) types.TransactWriteItem {
	return dynamo.UpdateOp(table, dynamo.PK(Key(id)), replayUpdate(id, now),
		dynamo.Cond(dynamo.Exists().And(expression.Name(attrRecipient).Equal(expression.Value(recipient)))))
}

// MarkDead gives up on event id: it leaves the due partitions, listed with
// its recipient's failures, until replayed.
func (b Box) MarkDead(ctx context.Context, id string) error {
	s, ok, err := b.Get(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	update := dynamo.RemoveAll(dynamo.SetAll(map[string]types.AttributeValue{attrStatus: dynamo.S(StatusDead),
		attrDuePK: dynamo.S(deadPK(s.Recipient)), attrDueAt: dynamo.N(time.Now().UnixMilli())}), attrLease, attrBlockedBy)
	return b.updateEvent(ctx, id, update)
}

// updateEvent applies an operator's update to event id, whatever its
// state; ErrNotFound when there is no such event.
func (b Box) updateEvent(ctx context.Context, id string, update expression.UpdateBuilder) error {
	_, ok, err := b.update(ctx, id, update, dynamo.Exists())
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return nil
}

// Get reads event id (consistent).
func (b Box) Get(ctx context.Context, id string) (Stored, bool, error) {
	out, err := b.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(b.Table), Key: dynamo.PK(Key(id)), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Stored{}, false, fmt.Errorf("outbox: get %s: %w", id, err)
	}
	if out.Item == nil {
		return Stored{}, false, nil
	}
	s, err := FromItem(out.Item)
	return s, err == nil, err
}

// List scans the table for the events of recipient ("" any) in status (""
// any), up to limit. An operator's command: the table has no recipient
// index, so it reads every page.
func (b Box) List(ctx context.Context, recipient, status string, limit int) ([]Stored, error) {
	var filter expression.ConditionBuilder
	var conds []expression.ConditionBuilder
	if recipient != "" {
		conds = append(conds, expression.Name(attrRecipient).Equal(expression.Value(recipient)))
	}
	if status != "" {
		conds = append(conds, expression.Name(attrStatus).Equal(expression.Value(status)))
	}
	in := &dynamodb.ScanInput{TableName: aws.String(b.Table), ConsistentRead: aws.Bool(true)}
	if len(conds) > 0 {
		filter = conds[0]
		if len(conds) > 1 {
			filter = filter.And(conds[1])
		}
		e := dynamo.Build(expression.NewBuilder().WithFilter(filter))
		in.FilterExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues = e.Filter(), e.Names(), e.Values()
	}
	var events []Stored
	p := dynamodb.NewScanPaginator(b.DB, in)
	for p.HasMorePages() && len(events) < limit {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("outbox: list events: %w", err)
		}
		for _, item := range out.Items {
			s, err := FromItem(item)
			if err != nil {
				return nil, err
			}
			if len(events) < limit {
				events = append(events, s)
			}
		}
	}
	return events, nil
}

func (b Box) held(c Claim) expression.ConditionBuilder {
	return expression.Name(attrStatus).Equal(expression.Value(StatusPending)).And(expression.Name(attrLease).Equal(expression.Value(c.token)))
}

// update applies one conditional UpdateItem and answers the new item; ok
// false when cond failed.
func (b Box) update(ctx context.Context, id string, update expression.UpdateBuilder, cond expression.ConditionBuilder) (map[string]types.AttributeValue, bool, error) {
	u := dynamo.UpdateOp(b.Table, dynamo.PK(Key(id)), update, dynamo.Cond(cond)).Update
	out, err := b.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
		ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
		ExpressionAttributeValues: u.ExpressionAttributeValues, ReturnValues: types.ReturnValueAllNew})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("outbox: update %s: %w", id, err)
	}
	return out.Attributes, true, nil
}

// windowStart is when the retry window of s began.
func (s Stored) windowStart() time.Time {
	if s.WindowFrom.After(s.At) {
		return s.WindowFrom
	}
	return s.At
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = crand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
