package purchase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/catalog"
	"github.com/tollgate-dev/tollgate/shared/httpx"
	"github.com/tollgate-dev/tollgate/shared/inventory"
	"github.com/tollgate-dev/tollgate/shared/stashapi"
	"github.com/tollgate-dev/tollgate/shared/store"
)

func conflict(code int, format string, args ...any) *httpx.StatusError {
	return &httpx.StatusError{HTTPStatus: http.StatusConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// recordChangedRetries bounds how often confirm and cancel start over when
// the record changed between their read and their write.
const recordChangedRetries = 3

var errRecordChanged = errors.New("purchase record changed concurrently")

// Confirm completes a purchase Stash has charged: the registration's
// reservation becomes a sale and the items and bonus items are granted, in
// one transaction that also records the answer. A replay gets the recorded
// answer. A confirm without a live registration (never registered, rejected,
// cancelled or expired) reserves and sells in the same transaction when
// stock and limits allow. It returns an *httpx.StatusError for a confirm that cannot be
// honoured and another error when the store failed (nothing changed).
func (s *Service) Confirm(ctx context.Context, req stashapi.ConfirmRequest) (stashapi.ConfirmResponse, error) {
	resp, _, err := s.ConfirmOnce(ctx, req)
	return resp, err
}

// ConfirmOnce is Confirm, also reporting whether this call granted (false:
// it replayed an earlier grant).
func (s *Service) ConfirmOnce(ctx context.Context, req stashapi.ConfirmRequest) (stashapi.ConfirmResponse, bool, error) {
	for attempt := 0; ; attempt++ {
		resp, granted, err := s.confirm(ctx, req)
		if (errors.Is(err, errStaleCatalog) || errors.Is(err, errRecordChanged)) && attempt < recordChangedRetries {
			continue
		}
		return resp, granted, err
	}
}

type confirmPlan struct {
	lines    []Line           // products with quantities, sorted
	grants   []inventory.Item // items and bonus items, merged
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
	grants := make([]inventory.Item, 0, len(lines)+len(req.BonusItems))
	results := make([]stashapi.ConfirmResult, 0, len(req.Items))
	for _, l := range lines {
		grants = append(grants, inventory.Item{ProductID: l.ProductID, Quantity: l.Quantity})
	}
	for _, it := range req.Items {
		results = append(results, stashapi.ConfirmResult{GUID: it.GUID, ProductID: it.ProductID})
	}
	bonusParts := []string{}
	for _, b := range req.BonusItems {
		grants = append(grants, inventory.Item{ProductID: b.ID, Quantity: b.Quantity})
		bonusParts = append(bonusParts, b.ID+"*"+strconv.FormatInt(b.Quantity, 10))
	}
	sort.Strings(bonusParts)
	plan.grants = inventory.Normalize(grants)
	plan.fp = digest(append([]string{req.PlayerID, plan.key}, bonusParts...)...)
	plan.response, err = json.Marshal(stashapi.ConfirmResponse{Results: results})
	return plan, err
}

// resolve maps request lines to catalog products (by productId, else guid)
// and merges lines of one product. Lines whose product the catalog does not
// know keep their productId and are listed in missing.
func resolve(cat *catalog.Catalog, in []stashapi.Line) ([]Line, map[string]catalog.Product, []string) {
	totals := map[string]*Line{}
	products := map[string]catalog.Product{}
	var missing []string
	for _, it := range in {
		id := it.ProductID
		if p, ok := catalog.Lookup(cat, it.ProductID, it.GUID); ok {
			id = p.ProductID
			products[id] = p
		} else {
			if id == "" {
				id = "guid:" + it.GUID
			}
			missing = append(missing, id)
		}
		if t := totals[id]; t != nil {
			t.Quantity += it.Quantity
		} else {
			totals[id] = &Line{ProductID: id, GUID: it.GUID, Quantity: it.Quantity, Cents: it.Cents}
		}
	}
	lines := make([]Line, 0, len(totals))
	for _, t := range totals {
		lines = append(lines, *t)
	}
	sort.Slice(lines, func(a, b int) bool { return lines[a].ProductID < lines[b].ProductID })
	return lines, products, missing
}

func (s *Service) confirm(ctx context.Context, req stashapi.ConfirmRequest) (stashapi.ConfirmResponse, bool, error) {
	plan, err := s.planConfirm(ctx, req)
	if err != nil {
		return stashapi.ConfirmResponse{}, false, err
	}
	now := s.Now()
	granted, _ := json.Marshal(plan.grants)
	confirmed := map[string]types.AttributeValue{
		attrState: sv(StateConfirmed), attrConfirmFP: sv(plan.fp), attrConfirmResp: bv(plan.response),
		attrConfirmedAt: ts(now), attrConfirmedVia: sv(s.via(ctx)), attrGranted: sv(string(granted)),
	}
	// The happy path: a live registration of exactly these items.
	items := []types.TransactWriteItem{stateChange{
		table: s.Store.Tables.Transactions, txID: req.TransactionID,
		cond:   []string{"#state = :registered", "#playerId = :player", "#itemsKey = :key"},
		values: map[string]types.AttributeValue{":registered": sv(StateRegistered), ":player": sv(req.PlayerID), ":key": sv(plan.key)},
		set:    confirmed, remove: []string{attrSweepPK, attrSweepAt},
	}.item()}
	for _, l := range plan.lines {
		items = append(items, sellOp(s.Store.Tables.Catalog, l))
	}
	items = append(items, inventory.GrantOps(s.Store.Tables.Players, req.PlayerID, plan.grants, now)...)
	err = s.Store.Transact(ctx, items)
	var failed *store.ConditionFailedError
	switch {
	case err == nil:
		s.Log.InfoContext(ctx, "confirmed", "transactionId", req.TransactionID, "playerId", req.PlayerID, "products", len(plan.lines))
		resp, err := decodeConfirmResponse(plan.response)
		return resp, err == nil, err
	case !errors.As(err, &failed) || !failed.Failed(0):
		return stashapi.ConfirmResponse{}, false, fmt.Errorf("confirm %s: %w", req.TransactionID, err)
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
		return stashapi.ConfirmResponse{}, false, conflict(httpx.CodeAlreadyExists, "transaction %s was already confirmed with other items or for another player", req.TransactionID)
	case rec.State == StateRefunded:
		return stashapi.ConfirmResponse{}, false, conflict(httpx.CodeFailedPrecondition, "transaction %s was refunded before it was granted", req.TransactionID)
	case rec.Exists && rec.PlayerID != req.PlayerID:
		return stashapi.ConfirmResponse{}, false, conflict(httpx.CodeFailedPrecondition, "transaction %s was registered for another player", req.TransactionID)
	case rec.State == StateRegistered && rec.ItemsKey != plan.key:
		return stashapi.ConfirmResponse{}, false, conflict(httpx.CodeFailedPrecondition, "items do not match the registration of transaction %s", req.TransactionID)
	case rec.State == StateRegistered:
		return stashapi.ConfirmResponse{}, false, errRecordChanged // it became registered meanwhile
	}
	resp, err := s.confirmUnreserved(ctx, req, plan, rec, confirmed)
	return resp, err == nil, err
}

// confirmUnreserved sells a charged purchase that holds no reservation.
func (s *Service) confirmUnreserved(ctx context.Context, req stashapi.ConfirmRequest, plan confirmPlan, rec record, confirmed map[string]types.AttributeValue) (stashapi.ConfirmResponse, error) {
	if len(plan.missing) > 0 {
		return stashapi.ConfirmResponse{}, conflict(httpx.CodeFailedPrecondition, "cannot grant unknown products %v", plan.missing)
	}
	now := s.Now()
	confirmed[attrConfirmedVia] = sv(s.via(ctx) + "-without-reservation")
	var first types.TransactWriteItem
	if rec.Exists {
		first = stateChange{
			table: s.Store.Tables.Transactions, txID: req.TransactionID,
			cond:   []string{"#state = :seen"},
			values: map[string]types.AttributeValue{":seen": sv(rec.State)},
			set:    withLines(confirmed, req, plan), remove: []string{attrSweepPK, attrSweepAt},
		}.item()
	} else {
		item := withLines(confirmed, req, plan)
		item[store.AttrPK] = sv(RecordKey(req.TransactionID))
		item["kind"] = sv("purchase")
		item["createdAt"] = ts(now)
		first = types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.Store.Tables.Transactions), Item: item,
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": store.AttrPK},
		}}
	}
	items := []types.TransactWriteItem{first}
	ops := []op{{kind: opRecord}}
	for _, l := range plan.lines {
		p := plan.products[l.ProductID]
		items = append(items, reserveAndSellOp(s.Store.Tables.Catalog, p, l))
		ops = append(ops, op{kind: opReserve, product: l.ProductID, line: l})
		items = append(items, countOp(s.Store.Tables.Players, req.PlayerID, l.ProductID, l.Quantity, p.PerPlayerLimit))
		ops = append(ops, op{kind: opCounter, product: l.ProductID, line: l})
	}
	items = append(items, inventory.GrantOps(s.Store.Tables.Players, req.PlayerID, plan.grants, now)...)
	err := s.Store.Transact(ctx, items)
	var failed *store.ConditionFailedError
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
		o := ops[i]
		switch o.kind {
		case opCounter:
			return stashapi.ConfirmResponse{}, conflict(httpx.CodeFailedPrecondition, "cannot be honoured: purchase limit of %s reached", o.product)
		case opReserve:
			out, err := s.Store.DB.GetItem(ctx, &dynamodb.GetItemInput{
				TableName: aws.String(s.Store.Tables.Catalog), Key: productKey(o.product), ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				return stashapi.ConfirmResponse{}, fmt.Errorf("read product %s: %w", o.product, err)
			}
			if !sameLimit(store.IntAttrPtr(out.Item["perPlayerLimit"]), plan.products[o.product].PerPlayerLimit) {
				s.Catalog.Invalidate()
				return stashapi.ConfirmResponse{}, errStaleCatalog
			}
			return stashapi.ConfirmResponse{}, conflict(httpx.CodeFailedPrecondition, "cannot be honoured: not enough units of %s left", o.product)
		}
	}
	return stashapi.ConfirmResponse{}, fmt.Errorf("confirm %s: %w", req.TransactionID, err)
}

func withLines(base map[string]types.AttributeValue, req stashapi.ConfirmRequest, plan confirmPlan) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(base)+4)
	for k, v := range base {
		out[k] = v
	}
	out[attrPlayer] = sv(req.PlayerID)
	out[attrCurrency] = sv(req.Currency)
	out[attrItems] = sv(linesJSON(plan.lines))
	out[attrItemsKey] = sv(plan.key)
	return out
}

func (s *Service) readRecord(ctx context.Context, txID string, returned map[string]types.AttributeValue) (record, error) {
	if len(returned) > 0 {
		return parseRecord(returned)
	}
	out, err := s.Store.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Store.Tables.Transactions), Key: recordKeyAttr(txID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return record{}, fmt.Errorf("read purchase %s: %w", txID, err)
	}
	return parseRecord(out.Item)
}

func decodeConfirmResponse(b []byte) (stashapi.ConfirmResponse, error) {
	var r stashapi.ConfirmResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("stored confirm response: %w", err)
	}
	return r, nil
}

type viaKey struct{}

// WithVia marks ctx as carrying a grant made by something other than
// Stash's confirm call (the webhook), for the record's confirmedVia.
func WithVia(ctx context.Context, via string) context.Context {
	return context.WithValue(ctx, viaKey{}, via)
}

func (s *Service) via(ctx context.Context) string {
	if v, ok := ctx.Value(viaKey{}).(string); ok {
		return v
	}
	return "confirm"
}
