package purchase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/retry"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

// Refund is a full or partial refund of an order (a purchase's
// transactionId is its orderId).
type Refund struct {
	OrderID  string
	PlayerID string         // from the event; the purchase record's player wins
	Items    []players.Item // units refunded per product; nil: everything granted
	Key      string         // identifies this refund among the order's refunds
}

// RefundResult says what a refund did.
type RefundResult struct {
	Outcome  string         // revoked, refunded-before-grant, nothing-to-revoke, duplicate
	PlayerID string         // whose inventory changed
	Revoked  []players.Item // units taken from the inventory
	Debts    []players.Item // units the player had already spent, recorded as debt
}

// Refund outcomes.
const (
	RefundRevoked     = "revoked"
	RefundBeforeGrant = "refunded-before-grant"
	RefundNothingLeft = "nothing-to-revoke"
	RefundDuplicate   = "duplicate"
)

// Refund revokes what a refund takes back, exactly once per refund (its
// key): units the player still holds are removed, units already spent become
// a debt on the player (never a negative inventory). A partial refund
// revokes the listed units only, never more than the order granted less
// earlier refunds. A refund of an order not granted yet marks the purchase
// REFUNDED (releasing a live reservation) so it is never granted later.
func (s *Service) Refund(ctx context.Context, r Refund) (RefundResult, error) {
	return retry.Do(ctx, refundRetry, func(ctx context.Context) (RefundResult, error) {
		return s.refund(ctx, r)
	})
}

func (s *Service) refund(ctx context.Context, r Refund) (RefundResult, error) {
	rec, err := s.readRecord(ctx, r.OrderID, nil)
	if err != nil {
		return RefundResult{}, err
	}
	player := rec.PlayerID
	if player == "" {
		player = r.PlayerID
	}
	res := RefundResult{PlayerID: player}
	var items []types.TransactWriteItem
	switch rec.State {
	case StateConfirmed:
		if items, err = s.revokeItems(ctx, r, rec, &res); err != nil {
			return RefundResult{}, err
		}
	case StateRegistered:
		// Refunded before the confirm: release the reservation, never grant.
		res.Outcome = RefundBeforeGrant
		items = s.releaseItems(r.OrderID, rec.PlayerID, rec.Items, StateRefunded, ReasonRefund, "",
			expression.And(stateIs(StateRegistered), itemsKeyIs(rec.ItemsKey)))
	case StateRefunded:
		res.Outcome = RefundBeforeGrant
	default: // no record, rejected or cancelled: nothing granted yet
		res.Outcome = RefundBeforeGrant
		items = []types.TransactWriteItem{s.markRefunded(r.OrderID, rec, player)}
	}
	// The refund's own record comes first: a second delivery of the same
	// refund fails on it and changes nothing.
	items = append([]types.TransactWriteItem{s.refundRecord(r, res)}, items...)

	err = s.Store.Transact(ctx, items)
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		s.Log.InfoContext(ctx, "refund applied", "orderId", r.OrderID, "refund", r.Key, "outcome", res.Outcome,
			"playerId", player, "revoked", res.Revoked, "debts", res.Debts)
		metrics.StashRefunds.Add(ctx, 1, res.Outcome)
		if debt := unitsOf(res.Debts); debt > 0 {
			metrics.StashDebts.Add(ctx, float64(debt))
		}
		return res, nil
	case errors.As(err, &failed) && failed.Failed(0):
		return RefundResult{Outcome: RefundDuplicate, PlayerID: player}, nil
	case errors.As(err, &failed):
		return RefundResult{}, errRecordChanged // the purchase or the holdings moved: read again
	}
	return RefundResult{}, fmt.Errorf("refund %s of %s: %w", r.Key, r.OrderID, err)
}

// revokeItems are the writes of a refund of a granted order: what the
// player holds is taken, what they spent becomes debt, and the order's
// refunded counts grow, conditional on them being what was read. It fills
// res.
func (s *Service) revokeItems(ctx context.Context, r Refund, rec record, res *RefundResult) ([]types.TransactWriteItem, error) {
	revoke := toRevoke(rec, r.Items)
	if len(revoke) == 0 {
		res.Outcome = RefundNothingLeft
		return nil, nil
	}
	res.Outcome = RefundRevoked
	held, _, err := players.Holdings(ctx, s.Store.DB, s.Store.Tables.Players, res.PlayerID)
	if err != nil {
		return nil, err
	}
	holding := map[string]int64{}
	for _, h := range held {
		holding[h.ProductID] = h.Quantity
	}
	refunded := maps.Clone(rec.Refunded)
	if refunded == nil {
		refunded = map[string]int64{}
	}
	now := s.Now()
	var ops []types.TransactWriteItem
	for _, it := range revoke {
		refunded[it.ProductID] += it.Quantity
		take := min(holding[it.ProductID], it.Quantity)
		if take > 0 {
			res.Revoked = append(res.Revoked, players.Item{ProductID: it.ProductID, Quantity: take})
			ops = append(ops, players.TakeOp(s.Store.Tables.Players, res.PlayerID, it.ProductID, take, holding[it.ProductID]))
		} else {
			ops = append(ops, players.NotHeldCheck(s.Store.Tables.Players, res.PlayerID, it.ProductID))
		}
		if debt := it.Quantity - take; debt > 0 {
			res.Debts = append(res.Debts, players.Item{ProductID: it.ProductID, Quantity: debt})
			ops = append(ops, players.DebtOp(s.Store.Tables.Players, res.PlayerID, it.ProductID, debt, now))
		}
	}
	newRefunded, _ := json.Marshal(refunded)
	seen := expression.AttributeNotExists(expression.Name(attrRefunded))
	if rec.RefundedRaw != "" {
		seen = expression.Name(attrRefunded).Equal(expression.Value(rec.RefundedRaw))
	}
	mark := s.stateChange(r.OrderID, expression.And(stateIs(StateConfirmed), seen),
		map[string]types.AttributeValue{attrRefunded: dynamo.S(string(newRefunded))})
	return append([]types.TransactWriteItem{mark}, ops...), nil
}

// markRefunded makes a purchase that was never granted REFUNDED (creating
// its record when there is none), so it never will be.
func (s *Service) markRefunded(orderID string, rec record, player string) types.TransactWriteItem {
	now := s.Now()
	if rec.Exists {
		return s.stateChange(orderID, stateIs(rec.State), map[string]types.AttributeValue{
			attrState: dynamo.S(StateRefunded), attrCancelReason: dynamo.S(ReasonRefund), attrCancelledAt: dynamo.Time(now),
		})
	}
	return dynamo.PutNewOp(s.Store.Tables.Transactions, map[string]types.AttributeValue{
		dynamo.AttrPK: dynamo.S(recordKeyOf(orderID)), attrKind: dynamo.S(kindPurchase), attrState: dynamo.S(StateRefunded),
		attrPlayer: dynamo.S(player), attrCancelReason: dynamo.S(ReasonRefund), attrCreatedAt: dynamo.Time(now),
	})
}

// refundRecord is the record of one refund, written once: what it did.
func (s *Service) refundRecord(r Refund, res RefundResult) types.TransactWriteItem {
	revoked, _ := json.Marshal(res.Revoked)
	debts, _ := json.Marshal(res.Debts)
	return dynamo.PutNewOp(s.Store.Tables.Transactions, map[string]types.AttributeValue{
		dynamo.AttrPK: dynamo.S(refundKey(r.OrderID, r.Key)), attrKind: dynamo.S(kindRefund),
		attrOrderID: dynamo.S(r.OrderID), attrPlayer: dynamo.S(res.PlayerID), attrOutcome: dynamo.S(res.Outcome),
		attrRevoked: dynamo.S(string(revoked)), attrDebts: dynamo.S(string(debts)), attrCreatedAt: dynamo.Time(s.Now()),
	})
}

// refundKey is the key of a refund's record: the order and the refund's
// key as one dynamo.Tuple.
func refundKey(orderID, refundKey string) string { return "refund#" + dynamo.Tuple(orderID, refundKey) }

// toRevoke is what a refund takes back: the listed units (or everything
// for a full refund), capped at what the order granted less earlier refunds.
func toRevoke(rec record, listed []players.Item) []players.Item {
	remaining := map[string]int64{}
	for id, q := range rec.Granted {
		if left := q - rec.Refunded[id]; left > 0 {
			remaining[id] = left
		}
	}
	var out []players.Item
	if listed == nil {
		for id, q := range remaining {
			out = append(out, players.Item{ProductID: id, Quantity: q})
		}
	} else {
		for _, it := range players.Normalize(listed) {
			if q := min(it.Quantity, remaining[it.ProductID]); q > 0 {
				out = append(out, players.Item{ProductID: it.ProductID, Quantity: q})
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ProductID < out[b].ProductID })
	return out
}

// unitsOf is the number of units items hold.
func unitsOf(items []players.Item) int64 {
	var n int64
	for _, it := range items {
		n += it.Quantity
	}
	return n
}
