package purchase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/inventory"
	"github.com/tollgate-dev/tollgate/shared/store"
)

// Refund is a full or partial refund of an order (a purchase's
// transactionId is its orderId).
type Refund struct {
	OrderID  string
	PlayerID string           // from the event; the purchase record's player wins
	Items    []inventory.Item // units refunded per product; nil: everything granted
	Key      string           // identifies this refund among the order's refunds
}

// RefundResult says what a refund did.
type RefundResult struct {
	Outcome  string           // revoked, refunded-before-grant, nothing-to-revoke, duplicate
	PlayerID string           // whose inventory changed
	Revoked  []inventory.Item // units taken from the inventory
	Debts    []inventory.Item // units the player had already spent, recorded as debt
}

// Refund outcomes.
const (
	RefundRevoked      = "revoked"
	RefundBeforeGrant  = "refunded-before-grant"
	RefundNothingLeft  = "nothing-to-revoke"
	RefundDuplicate    = "duplicate"
	refundConflictRuns = 5
)

// Refund revokes what a refund takes back, exactly once per refund (its
// key): units the player still holds are removed, units already spent become
// a debt on the player (never a negative inventory). A partial refund
// revokes the listed units only, never more than the order granted less
// earlier refunds. A refund of an order not granted yet marks the purchase
// REFUNDED (releasing a live reservation) so it is never granted later.
func (s *Service) Refund(ctx context.Context, r Refund) (RefundResult, error) {
	for attempt := 1; ; attempt++ {
		res, err := s.refund(ctx, r)
		if errors.Is(err, errRecordChanged) && attempt < refundConflictRuns {
			continue
		}
		return res, err
	}
}

func (s *Service) refund(ctx context.Context, r Refund) (RefundResult, error) {
	rec, err := s.readRecord(ctx, r.OrderID, nil)
	if err != nil {
		return RefundResult{}, err
	}
	now := s.Now()
	player := rec.PlayerID
	if player == "" {
		player = r.PlayerID
	}
	res := RefundResult{PlayerID: player}
	refundItem := func(outcome string) types.TransactWriteItem {
		res.Outcome = outcome
		revoked, _ := json.Marshal(res.Revoked)
		debts, _ := json.Marshal(res.Debts)
		return types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.Store.Tables.Transactions),
			Item: map[string]types.AttributeValue{
				store.AttrPK: sv("refund#" + r.OrderID + "#" + r.Key), "kind": sv("refund"),
				"orderId": sv(r.OrderID), attrPlayer: sv(player), "outcome": sv(outcome),
				"revoked": sv(string(revoked)), "debts": sv(string(debts)), "createdAt": ts(now),
			},
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": store.AttrPK},
		}}
	}

	var items []types.TransactWriteItem
	switch rec.State {
	case StateConfirmed:
		revoke := toRevoke(rec, r.Items)
		if len(revoke) == 0 {
			items = []types.TransactWriteItem{refundItem(RefundNothingLeft)}
			break
		}
		held, _, err := inventory.Holdings(ctx, s.Store.DB, s.Store.Tables.Players, player)
		if err != nil {
			return RefundResult{}, err
		}
		holding := map[string]int64{}
		for _, h := range held {
			holding[h.ProductID] = h.Quantity
		}
		refunded := map[string]int64{}
		for k, v := range rec.Refunded {
			refunded[k] = v
		}
		var ops []types.TransactWriteItem
		for _, it := range revoke {
			refunded[it.ProductID] += it.Quantity
			take := min(holding[it.ProductID], it.Quantity)
			if take > 0 {
				res.Revoked = append(res.Revoked, inventory.Item{ProductID: it.ProductID, Quantity: take})
				ops = append(ops, inventory.TakeOp(s.Store.Tables.Players, player, it.ProductID, take, holding[it.ProductID]))
			}
			if debt := it.Quantity - take; debt > 0 {
				res.Debts = append(res.Debts, inventory.Item{ProductID: it.ProductID, Quantity: debt})
				ops = append(ops, inventory.DebtOp(s.Store.Tables.Players, player, it.ProductID, debt, now))
			}
		}
		newRefunded, _ := json.Marshal(refunded)
		cond := []string{"#state = :confirmed", "attribute_not_exists(#refunded)"}
		values := map[string]types.AttributeValue{":confirmed": sv(StateConfirmed)}
		if rec.RefundedRaw != "" {
			cond[1] = "#refunded = :seen"
			values[":seen"] = sv(rec.RefundedRaw)
		}
		items = append([]types.TransactWriteItem{refundItem(RefundRevoked), stateChange{
			table: s.Store.Tables.Transactions, txID: r.OrderID, cond: cond, values: values,
			set: map[string]types.AttributeValue{attrRefunded: sv(string(newRefunded))},
		}.item()}, ops...)
	case StateRegistered:
		// Refunded before the confirm: release the reservation, never grant.
		items = append([]types.TransactWriteItem{refundItem(RefundBeforeGrant)},
			s.releaseItems(r.OrderID, rec.PlayerID, rec.Items, StateRefunded, ReasonRefund, "",
				[]string{"#state = :registered", "#itemsKey = :key"},
				map[string]types.AttributeValue{":registered": sv(StateRegistered), ":key": sv(rec.ItemsKey)})...)
	case StateRefunded:
		items = []types.TransactWriteItem{refundItem(RefundBeforeGrant)}
	default: // no record, rejected or cancelled: nothing granted yet
		mark := stateChange{
			table: s.Store.Tables.Transactions, txID: r.OrderID,
			cond:   []string{"#state = :seen"},
			values: map[string]types.AttributeValue{":seen": sv(rec.State)},
			set:    map[string]types.AttributeValue{attrState: sv(StateRefunded), attrCancelReason: sv(ReasonRefund), attrCancelledAt: ts(now)},
		}.item()
		if !rec.Exists {
			mark = types.TransactWriteItem{Put: &types.Put{
				TableName: aws.String(s.Store.Tables.Transactions),
				Item: map[string]types.AttributeValue{
					store.AttrPK: sv(RecordKey(r.OrderID)), "kind": sv("purchase"), attrState: sv(StateRefunded),
					attrPlayer: sv(player), attrCancelReason: sv(ReasonRefund), "createdAt": ts(now),
				},
				ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#pk": store.AttrPK},
			}}
		}
		items = []types.TransactWriteItem{refundItem(RefundBeforeGrant), mark}
	}

	err = s.Store.Transact(ctx, items)
	var failed *store.ConditionFailedError
	switch {
	case err == nil:
		s.Log.InfoContext(ctx, "refund applied", "orderId", r.OrderID, "refund", r.Key, "outcome", res.Outcome,
			"playerId", player, "revoked", res.Revoked, "debts", res.Debts)
		return res, nil
	case errors.As(err, &failed) && failed.Failed(0):
		return RefundResult{Outcome: RefundDuplicate, PlayerID: player}, nil
	case errors.As(err, &failed):
		return RefundResult{}, errRecordChanged // the purchase or the holdings moved: read again
	}
	return RefundResult{}, fmt.Errorf("refund %s of %s: %w", r.Key, r.OrderID, err)
}

// toRevoke is what a refund takes back: the listed units (or everything
// for a full refund), capped at what the order granted less earlier refunds.
func toRevoke(rec record, listed []inventory.Item) []inventory.Item {
	remaining := map[string]int64{}
	for id, q := range rec.Granted {
		if left := q - rec.Refunded[id]; left > 0 {
			remaining[id] = left
		}
	}
	var out []inventory.Item
	if listed == nil {
		for id, q := range remaining {
			out = append(out, inventory.Item{ProductID: id, Quantity: q})
		}
	} else {
		for _, it := range inventory.Normalize(listed) {
			if q := min(it.Quantity, remaining[it.ProductID]); q > 0 {
				out = append(out, inventory.Item{ProductID: it.ProductID, Quantity: q})
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ProductID < out[b].ProductID })
	return out
}
