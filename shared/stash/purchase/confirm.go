package purchase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/retry"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

// Confirm completes a purchase Stash has charged: the registration's
// reservation becomes a sale and the items and bonus items are granted, in
// one transaction that also records the answer. A replay gets the recorded
// answer. A confirm without a live registration (never registered, rejected,
// cancelled or expired) reserves and sells in the same transaction when
// stock and limits allow. via says what confirmed, for the record
// (ViaConfirm, ViaWebhook); granted is false when an earlier call granted.
// It returns a *refusal.Error for a confirm that cannot be honoured, and
// another error when the store failed (nothing changed).
func (s *Service) Confirm(ctx context.Context, req stashapi.ConfirmRequest, via string) (resp stashapi.ConfirmResponse, granted bool, err error) {
	type result struct {
		resp    stashapi.ConfirmResponse
		granted bool
	}
	r, err := retry.Do(ctx, changeRetry, func(ctx context.Context) (result, error) {
		resp, granted, err := s.confirm(ctx, req, via)
		return result{resp, granted}, err
	})
	if err == nil && r.granted {
		metrics.StashGrants.Add(ctx, 1, via)
	}
	return r.resp, r.granted, err
}

// What confirmed a purchase, as its record keeps it.
const (
	ViaConfirm = "confirm" // Stash's confirm call
	ViaWebhook = "webhook" // Stash's PURCHASE_SUCCEEDED webhook
)

type confirmPlan struct {
	lines    []Line         // products with quantities, sorted
	grants   []players.Item // items and bonus items, merged
	key      string
	fp       string
	response []byte
	products map[string]catalog.Product
	missing  []string // products the catalog does not know
}

func (s *Service) planConfirm(ctx context.Context, req stashapi.ConfirmRequest) (confirmPlan, error) {
	cat, err := s.Catalog.Get(ctx)
	if err != nil {
		return confirmPlan{}, fmt.Errorf("catalog: %w", err)
	}
	lines, products, missing := resolve(cat, req.Items)
	plan := confirmPlan{lines: lines, products: products, missing: missing, key: itemsKey(lines)}
	grants := make([]players.Item, 0, len(lines)+len(req.BonusItems))
	results := make([]stashapi.ConfirmResult, 0, len(req.Items))
	for _, l := range lines {
		grants = append(grants, players.Item{ProductID: l.ProductID, Quantity: l.Quantity})
	}
	for _, it := range req.Items {
		results = append(results, stashapi.ConfirmResult{GUID: it.GUID, ProductID: it.ProductID})
	}
	bonus := make([]players.Item, 0, len(req.BonusItems))
	for _, b := range req.BonusItems {
		bonus = append(bonus, players.Item{ProductID: b.ID, Quantity: b.Quantity})
	}
	grants = append(grants, bonus...)
	plan.grants = players.Normalize(grants)
	// What the confirm asks: the player, the items (as their key) and the
	// bonus items, merged and in product order.
	fpParts := []string{req.PlayerID, plan.key}
	for _, b := range players.Normalize(bonus) {
		fpParts = append(fpParts, b.ProductID, strconv.FormatInt(b.Quantity, 10))
	}
	plan.fp = dynamo.Fingerprint(fpParts...)
	plan.response, err = json.Marshal(stashapi.ConfirmResponse{Results: results})
	return plan, err
}

// unknownGUIDPrefix starts the line id of a product named only by a guid
// the catalog does not know.
const unknownGUIDPrefix = "\x00guid:"

// resolve maps request lines to catalog products (by productId, else guid)
// and merges lines of one product. Lines whose product the catalog does not
// know keep their productId and are listed in missing.
func resolve(cat *catalog.Catalog, in []stashapi.Line) ([]Line, map[string]catalog.Product, []string) {
	products := map[string]catalog.Product{}
	var missing []string
	lines := make([]Line, 0, len(in))
	for _, it := range in {
		id := it.ProductID
		if p, ok := catalog.Lookup(cat, it.ProductID, it.GUID); ok {
			id = p.ProductID
			products[id] = p
		} else if id == "" {
			// Named by an unknown guid: an id no product can have (ids
			// hold no control character), so the line can match no
			// registration and is never merged with a real product.
			id = unknownGUIDPrefix + it.GUID
			missing = append(missing, "guid:"+it.GUID)
		} else {
			missing = append(missing, id)
		}
		lines = append(lines, Line{ProductID: id, GUID: it.GUID, Quantity: it.Quantity, Cents: it.Cents})
	}
	return mergeLines(lines), products, missing
}

func (s *Service) confirm(ctx context.Context, req stashapi.ConfirmRequest, via string) (stashapi.ConfirmResponse, bool, error) {
	plan, err := s.planConfirm(ctx, req)
	if err != nil {
		return stashapi.ConfirmResponse{}, false, err
	}
	now := s.Now()
	granted, _ := json.Marshal(plan.grants)
	confirmed := map[string]types.AttributeValue{
		attrState: dynamo.S(StateConfirmed), attrConfirmFP: dynamo.S(plan.fp), attrConfirmResp: dynamo.B(plan.response),
		attrConfirmedAt: dynamo.Time(now), attrConfirmedVia: dynamo.S(via), attrGranted: dynamo.S(string(granted)),
	}
	// The happy path: a live registration of exactly these items.
	items := []types.TransactWriteItem{s.stateChange(req.TransactionID,
		expression.And(stateIs(StateRegistered), playerIs(req.PlayerID), itemsKeyIs(plan.key)),
		confirmed, leaveSweep...)}
	for _, l := range plan.lines {
		items = append(items, catalog.SellOp(s.Store.Tables.Catalog, l.ProductID, l.Quantity))
	}
	items = append(items, players.GrantOps(s.Store.Tables.Players, req.PlayerID, plan.grants, now)...)
	err = s.Store.Transact(ctx, items)
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		s.Log.InfoContext(ctx, "confirmed", "transactionId", req.TransactionID, "playerId", req.PlayerID, "products", len(plan.lines))
		resp, err := decodeConfirmResponse(plan.response)
		return resp, err == nil, err
	case !errors.As(err, &failed):
		return stashapi.ConfirmResponse{}, false, fmt.Errorf("confirm %s: %w", req.TransactionID, err)
	case !failed.Failed(0):
		// The record matched but a product does not hold the reservation
		// the record says it does: nothing was written; the catalog row
		// needs reconciliation.
		s.Log.ErrorContext(ctx, "reserved stock missing; confirm refused", "transactionId", req.TransactionID, "failedItems", failed.Indexes)
		return stashapi.ConfirmResponse{}, false, fmt.Errorf("confirm %s: reserved stock missing: %w", req.TransactionID, err)
	}
	rec, err := s.readRecord(ctx, req.TransactionID, failed.Items[0])
	if err != nil {
		return stashapi.ConfirmResponse{}, false, err
	}
	switch {
	case rec.State == StateConfirmed && rec.ConfirmFP == plan.fp:
		resp, err := decodeConfirmResponse(rec.ConfirmResp)
		return resp, false, err
	case rec.State == StateConfirmed:
		return stashapi.ConfirmResponse{}, false, refusal.New(ErrAlreadyConfirmed, "transaction %s was already confirmed with other items or for another player", req.TransactionID)
	case rec.State == StateRefunded:
		return stashapi.ConfirmResponse{}, false, refusal.New(ErrRefunded, "transaction %s was refunded before it was granted", req.TransactionID)
	case rec.Exists && rec.PlayerID != req.PlayerID:
		return stashapi.ConfirmResponse{}, false, refusal.New(ErrOtherPlayer, "transaction %s was registered for another player", req.TransactionID)
	case rec.State == StateRegistered && rec.ItemsKey != plan.key:
		return stashapi.ConfirmResponse{}, false, refusal.New(ErrItemsMismatch, "items do not match the registration of transaction %s", req.TransactionID)
	case rec.State == StateRegistered:
		return stashapi.ConfirmResponse{}, false, errRecordChanged // it became registered meanwhile
	}
	confirmed[attrConfirmedVia] = dynamo.S(via + "-without-reservation")
	resp, err := s.confirmUnreserved(ctx, req, plan, rec, confirmed)
	return resp, err == nil, err
}

// confirmUnreserved sells a charged purchase that holds no reservation.
func (s *Service) confirmUnreserved(ctx context.Context, req stashapi.ConfirmRequest, plan confirmPlan, rec record, confirmed map[string]types.AttributeValue) (stashapi.ConfirmResponse, error) {
	if len(plan.missing) > 0 {
		return stashapi.ConfirmResponse{}, refusal.New(ErrUnknownProducts, "cannot grant unknown products %v", plan.missing)
	}
	now := s.Now()
	var first types.TransactWriteItem
	if rec.Exists {
		first = s.stateChange(req.TransactionID, stateIs(rec.State), withLines(confirmed, req, plan), leaveSweep...)
	} else {
		item := withLines(confirmed, req, plan)
		item[dynamo.AttrPK] = dynamo.S(recordKeyOf(req.TransactionID))
		item[attrKind] = dynamo.S(kindPurchase)
		item[attrCreatedAt] = dynamo.Time(now)
		first = dynamo.PutNewOp(s.Store.Tables.Transactions, item)
	}
	items := []types.TransactWriteItem{first}
	ops := []op{{kind: opRecord}}
	for _, l := range plan.lines {
		p := plan.products[l.ProductID]
		items = append(items, catalog.ReserveAndSellOp(s.Store.Tables.Catalog, p, l.Quantity))
		ops = append(ops, op{kind: opReserve, product: l.ProductID, line: l})
		items = append(items, players.CountOp(s.Store.Tables.Players, req.PlayerID, l.ProductID, l.Quantity, p.PerPlayerLimit))
		ops = append(ops, op{kind: opCounter, product: l.ProductID, line: l})
	}
	items = append(items, players.GrantOps(s.Store.Tables.Players, req.PlayerID, plan.grants, now)...)
	err := s.Store.Transact(ctx, items)
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		s.Log.WarnContext(ctx, "confirmed without a live reservation", "transactionId", req.TransactionID, "playerId", req.PlayerID, "previousState", rec.State)
		return decodeConfirmResponse(plan.response)
	case !errors.As(err, &failed):
		return stashapi.ConfirmResponse{}, fmt.Errorf("confirm %s: %w", req.TransactionID, err)
	case failed.Failed(0):
		return stashapi.ConfirmResponse{}, errRecordChanged
	}
	for _, i := range failed.Indexes {
		switch o := ops[i]; o.kind {
		case opCounter:
			return stashapi.ConfirmResponse{}, refusal.New(ErrLimitReached, "cannot be honoured: purchase limit of %s reached", o.product)
		case opReserve:
			row, _, err := catalog.Get(ctx, s.Store.DB, s.Store.Tables.Catalog, o.product)
			if err != nil {
				return stashapi.ConfirmResponse{}, err
			}
			if !catalog.EqualOptional(row.PerPlayerLimit, plan.products[o.product].PerPlayerLimit) {
				s.Catalog.Invalidate()
				return stashapi.ConfirmResponse{}, errStaleCatalog
			}
			return stashapi.ConfirmResponse{}, refusal.New(ErrSoldOut, "cannot be honoured: not enough units of %s left", o.product)
		}
	}
	return stashapi.ConfirmResponse{}, fmt.Errorf("confirm %s: %w", req.TransactionID, err)
}

func withLines(base map[string]types.AttributeValue, req stashapi.ConfirmRequest, plan confirmPlan) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(base)+4)
	for k, v := range base {
		out[k] = v
	}
	out[attrPlayer] = dynamo.S(req.PlayerID)
	out[attrCurrency] = dynamo.S(req.Currency)
	out[attrItems] = dynamo.S(linesJSON(plan.lines))
	out[attrItemsKey] = dynamo.S(plan.key)
	return out
}

func (s *Service) readRecord(ctx context.Context, txID string, returned map[string]types.AttributeValue) (record, error) {
	if len(returned) > 0 {
		return parseRecord(returned)
	}
	item, err := s.Store.RecordItem(ctx, recordKeyOf(txID))
	if err != nil {
		return record{}, err
	}
	return parseRecord(item)
}

func decodeConfirmResponse(b []byte) (stashapi.ConfirmResponse, error) {
	var r stashapi.ConfirmResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("stored confirm response: %w", err)
	}
	return r, nil
}
