package purchase

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/retry"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

// Cancel releases a registration's reservation. The answer is always a
// status (HTTP 200); an error means the store failed and nothing changed.
func (s *Service) Cancel(ctx context.Context, req stashapi.CancelRequest) (stashapi.CancelResponse, error) {
	return retry.Do(ctx, changeRetry, func(ctx context.Context) (stashapi.CancelResponse, error) {
		return s.cancel(ctx, req)
	})
}

func (s *Service) cancel(ctx context.Context, req stashapi.CancelRequest) (stashapi.CancelResponse, error) {
	cat, err := s.Catalog.Get(ctx)
	if err != nil {
		return stashapi.CancelResponse{}, fmt.Errorf("catalog: %w", err)
	}
	lines, _, _ := resolve(cat, req.Items)
	key := itemsKey(lines)
	fp := dynamo.Fingerprint(req.PlayerID, key)
	err = s.release(ctx, req.TransactionID, req.PlayerID, lines, ReasonRequest, fp,
		expression.And(stateIs(StateRegistered), playerIs(req.PlayerID), itemsKeyIs(key)))
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		s.Log.InfoContext(ctx, "cancelled", "transactionId", req.TransactionID, "playerId", req.PlayerID)
		return stashapi.CancelResponse{Status: stashapi.CancellationCancelled}, nil
	case !errors.As(err, &failed) || !failed.Failed(0):
		return stashapi.CancelResponse{}, fmt.Errorf("cancel %s: %w", req.TransactionID, err)
	}
	rec, err := s.readRecord(ctx, req.TransactionID, failed.Items[0])
	if err != nil {
		return stashapi.CancelResponse{}, err
	}
	switch {
	case !rec.Exists:
		return stashapi.CancelResponse{Status: stashapi.CancellationNotFound, Message: "no registration for this transaction"}, nil
	case rec.State == StateRejected:
		return stashapi.CancelResponse{Status: stashapi.CancellationNotFound, Message: "the registration was rejected; nothing was reserved"}, nil
	case rec.PlayerID != req.PlayerID:
		return stashapi.CancelResponse{Status: stashapi.CancellationUnspecified, Message: "the transaction belongs to another player"}, nil
	case rec.CancelReason == ReasonRequest && rec.CancelFP == fp:
		// A replay of the cancel that succeeded answers as it did, even
		// after a later confirm sold the purchase from stock (the record
		// keeps the cancel's fingerprint): Stash's retry must not read a
		// different outcome than the call it retries.
		return stashapi.CancelResponse{Status: stashapi.CancellationCancelled}, nil
	case rec.State == StateConfirmed:
		return stashapi.CancelResponse{Status: stashapi.CancellationAlreadyCompleted}, nil
	case rec.State == StateCancelled:
		msg := "already cancelled"
		if rec.CancelReason == ReasonExpired {
			msg = "the reservation expired and was released"
		}
		return stashapi.CancelResponse{Status: stashapi.CancellationAlreadyCancelled, Message: msg}, nil
	case rec.State != StateRegistered:
		return stashapi.CancelResponse{Status: stashapi.CancellationUnspecified, Message: "unknown purchase state " + rec.State}, nil
	}
	// Registered for this player with other items than the request lists:
	// release what was reserved.
	err = s.release(ctx, req.TransactionID, req.PlayerID, rec.Items, ReasonRequest, fp,
		expression.And(stateIs(StateRegistered), itemsKeyIs(rec.ItemsKey)))
	switch {
	case err == nil:
		s.Log.WarnContext(ctx, "cancelled; the request listed other items than the registration", "transactionId", req.TransactionID)
		return stashapi.CancelResponse{Status: stashapi.CancellationCancelled, Message: "released the registered items"}, nil
	case errors.As(err, &failed) && failed.Failed(0):
		return stashapi.CancelResponse{}, errRecordChanged
	}
	return stashapi.CancelResponse{}, fmt.Errorf("cancel %s: %w", req.TransactionID, err)
}

// release is the cancel transaction, shared by Stash's cancel and the
// sweeper: the record goes REGISTERED → CANCELLED under cond, and the
// reservation of lines (stock and per-player counts) is given back.
func (s *Service) release(ctx context.Context, txID, playerID string, lines []Line, reason, fp string, cond expression.ConditionBuilder) error {
	return s.Store.Transact(ctx, s.releaseItems(txID, playerID, lines, StateCancelled, reason, fp, cond))
}

// releaseItems are the writes of a release: the record's change to state
// (first) and the stock and per-player counts given back.
func (s *Service) releaseItems(txID, playerID string, lines []Line, state, reason, fp string, cond expression.ConditionBuilder) []types.TransactWriteItem {
	set := map[string]types.AttributeValue{attrState: dynamo.S(state), attrCancelledAt: dynamo.Time(s.Now()), attrCancelReason: dynamo.S(reason)}
	if fp != "" {
		set[attrCancelFP] = dynamo.S(fp)
	}
	items := []types.TransactWriteItem{s.stateChange(txID, cond, set, leaveSweep...)}
	for _, l := range lines {
		items = append(items, catalog.ReleaseOp(s.Store.Tables.Catalog, l.ProductID, l.Quantity))
		items = append(items, players.CountOp(s.Store.Tables.Players, playerID, l.ProductID, -l.Quantity, nil))
	}
	return items
}

// DefaultSweepBatch bounds the reservations one Sweep releases.
const DefaultSweepBatch = 200

// Sweeper releases the reservations nobody confirmed or cancelled in time.
// It needs no catalog: it gives back what each record says it reserved.
type Sweeper struct{ svc *Service }

// NewSweeper builds the sweeper of a function from its dependencies.
func NewSweeper(d deps.Deps) *Sweeper {
	return &Sweeper{svc: &Service{Store: d.Store, Now: d.Now, Log: d.Logger}}
}

// Sweep releases reservations whose time has passed, at most limit of them,
// through the cancel transaction, conditional on the purchase still being
// REGISTERED with the same expiry: a sweep racing a confirm never both sells
// and releases. It returns how many it released.
func (w *Sweeper) Sweep(ctx context.Context, limit int) (int, error) {
	s := w.svc
	if limit <= 0 {
		limit = DefaultSweepBatch
	}
	now := s.Now()
	released := 0
	var oldest time.Duration // how late the most overdue expired reservation found is
	defer func() {
		// Emitted whether or not the sweep succeeded: an age that keeps
		// growing says expired reservations are not being released
		// (the ExpiredReservationsNotSwept alarm).
		if oldest > 0 {
			metrics.ExpiredReservationAge.Add(ctx, oldest.Seconds())
		}
		if released > 0 {
			metrics.ReservationsReleased.Add(ctx, float64(released))
		}
	}()
	for shard := 0; shard < sweepShards && released < limit; shard++ {
		n, late, err := s.sweepShard(ctx, shard, now, limit-released)
		released += n
		oldest = max(oldest, late)
		if err != nil {
			return released, err
		}
	}
	return released, nil
}

// sweepShard releases up to limit expired reservations of shard; late is
// how long past its expiry the most overdue one it found was.
func (s *Service) sweepShard(ctx context.Context, shard int, now time.Time, limit int) (released int, late time.Duration, err error) {
	e := dynamo.Build(expression.NewBuilder().WithKeyCondition(expression.KeyAnd(
		expression.Key(attrSweepPK).Equal(expression.Value(sweepPartition(shard))),
		expression.Key(attrSweepAt).LessThanEqual(expression.Value(now.UnixMilli())))))
	pageSize := int32(100) // min(limit, 100), converted within int32's range
	if limit >= 0 && limit < 100 {
		pageSize = int32(limit)
	}
	p := dynamodb.NewQueryPaginator(s.Store.DB, &dynamodb.QueryInput{
		TableName:                 aws.String(s.Store.Tables.Transactions),
		IndexName:                 aws.String(SweepIndex),
		KeyConditionExpression:    e.KeyCondition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		Limit:                     aws.Int32(pageSize),
	})
	for p.HasMorePages() && released < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return released, late, fmt.Errorf("query expired reservations: %w", err)
		}
		for _, item := range page.Items {
			if released >= limit {
				break
			}
			rec, err := parseRecord(item)
			if err != nil {
				s.Log.ErrorContext(ctx, "unreadable purchase record skipped by the sweep", "key", dynamo.StringAttr(item[dynamo.AttrPK]), "error", err)
				continue
			}
			if rec.State != StateRegistered {
				continue // the index lags (or, on minidyn, keeps removed attributes)
			}
			late = max(late, now.Sub(rec.ReservedUntil))
			txID := strings.TrimPrefix(dynamo.StringAttr(item[dynamo.AttrPK]), purchasePrefix)
			err = s.release(ctx, txID, rec.PlayerID, rec.Items, ReasonExpired, "",
				expression.And(stateIs(StateRegistered), expression.Name(attrSweepAt).Equal(expression.Value(rec.ReservedUntil.UnixMilli()))))
			var failed *dynamo.ConditionFailedError
			switch {
			case err == nil:
				released++
				s.Log.InfoContext(ctx, "reservation expired and released", "transactionId", txID, "playerId", rec.PlayerID,
					"reservedUntil", rec.ReservedUntil.UTC().Format("2006-01-02T15:04:05.000Z"), "lateBy", now.Sub(rec.ReservedUntil).String())
			case errors.As(err, &failed) && failed.Failed(0):
				// Confirmed or cancelled meanwhile: nothing to release.
			case errors.As(err, &failed):
				// A product no longer holds what the record reserved:
				// releasing would move its counters below zero. Skip it
				// (the sweep must go on) and say so.
				s.Log.ErrorContext(ctx, "reserved stock missing; reservation not released; needs reconciliation",
					"transactionId", txID, "playerId", rec.PlayerID, "failedItems", failed.Indexes)
			default:
				return released, late, fmt.Errorf("release %s: %w", txID, err)
			}
		}
	}
	return released, late, nil
}
