package purchase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/retry"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

// Messages of statuses other than success.
const (
	msgNotReserved = "not reserved: another registration in this request failed"
	msgTxReused    = "transactionId was already registered with a different request; nothing reserved"
)

// Register reserves every registration of req, all or nothing. It returns
// the statuses to answer with HTTP 200, or an error when the store failed
// (nothing was reserved; a retry is safe).
func (s *Service) Register(ctx context.Context, req stashapi.RegisterRequest) (stashapi.RegisterResponse, error) {
	fp := registerFingerprint(req)
	return retry.Do(ctx, registerRetry, func(ctx context.Context) (stashapi.RegisterResponse, error) {
		return s.register(ctx, req, fp)
	})
}

func registerFingerprint(req stashapi.RegisterRequest) string {
	parts := []string{req.PlayerID, req.Currency, strconv.FormatInt(req.DecimalPlaces, 10)}
	for _, l := range req.Registrations {
		parts = append(parts, l.ProductID, l.GUID, strconv.FormatInt(l.Cents, 10), strconv.FormatInt(l.Quantity, 10))
	}
	return dynamo.Fingerprint(parts...)
}

// registration is a register request checked against the catalog: the
// statuses to answer and, when every line passed, the lines to reserve.
type registration struct {
	statuses []stashapi.RegistrationStatus
	lineOf   []string // product id per request line ("" where the line failed)
	products map[string]catalog.Product
	lines    []Line // merged per product, sorted
	failed   bool
}

func (s *Service) register(ctx context.Context, req stashapi.RegisterRequest, fp string) (stashapi.RegisterResponse, error) {
	cat, err := s.Catalog.Get(ctx)
	if err != nil {
		return stashapi.RegisterResponse{}, fmt.Errorf("catalog: %w", err)
	}
	reg := checkRegistration(cat, req)
	if reg.failed {
		return s.reject(ctx, req, fp, reg.statuses)
	}
	now := s.Now()
	until := now.Add(s.ReservationTTL)
	response, err := json.Marshal(stashapi.RegisterResponse{Statuses: reg.statuses})
	if err != nil {
		return stashapi.RegisterResponse{}, err
	}
	rec := dynamo.Record{
		Key: recordKeyOf(req.TransactionID), Fingerprint: fp, Response: response, CreatedAt: now,
		Attributes: map[string]types.AttributeValue{
			attrKind:          dynamo.S(kindPurchase),
			attrState:         dynamo.S(StateRegistered),
			attrPlayer:        dynamo.S(req.PlayerID),
			attrCurrency:      dynamo.S(req.Currency),
			attrItems:         dynamo.S(linesJSON(reg.lines)),
			attrItemsKey:      dynamo.S(itemsKey(reg.lines)),
			attrReservedUntil: dynamo.N(until.UnixMilli()),
			attrSweepPK:       dynamo.S(sweepPartition(sweepShardOf(req.TransactionID))),
			attrSweepAt:       dynamo.N(until.UnixMilli()),
			attrEnvironment:   dynamo.S(req.Environment),
		},
	}
	effects, ops := s.reserveItems(req, reg)
	outcome, stored, err := s.Store.ApplyOnce(ctx, rec, effects)
	var effectFailed *dynamo.EffectFailedError
	switch {
	case errors.As(err, &effectFailed):
		reasons, err := s.explain(ctx, req.Currency, reg.products, ops, effectFailed.Indexes)
		if err != nil {
			return stashapi.RegisterResponse{}, err
		}
		for i, id := range reg.lineOf {
			if reason, ok := reasons[id]; ok {
				reg.statuses[i].Status, reg.statuses[i].Message = reason.status, reason.message
			}
		}
		return s.reject(ctx, req, fp, reg.statuses)
	case err != nil:
		return stashapi.RegisterResponse{}, fmt.Errorf("register %s: %w", req.TransactionID, err)
	}
	switch outcome {
	case dynamo.Applied:
		s.Log.InfoContext(ctx, "registered", "transactionId", req.TransactionID, "playerId", req.PlayerID, "products", len(reg.lines))
		return stashapi.RegisterResponse{Statuses: reg.statuses}, nil
	case dynamo.Replayed:
		return decodeRegisterResponse(stored.Response)
	default:
		return conflictStatuses(req), nil
	}
}

// reserveItems are a registration's stock and per-player writes, with what
// each does (to explain a failed condition).
func (s *Service) reserveItems(req stashapi.RegisterRequest, reg registration) ([]types.TransactWriteItem, []op) {
	effects := make([]types.TransactWriteItem, 0, 2*len(reg.lines))
	ops := make([]op, 0, 2*len(reg.lines))
	for _, l := range reg.lines {
		p := reg.products[l.ProductID]
		effects = append(effects, catalog.ReserveOp(s.Store.Tables.Catalog, p, l.Quantity, l.Cents, req.Currency))
		ops = append(ops, op{kind: opReserve, product: l.ProductID, line: l})
		effects = append(effects, players.CountOp(s.Store.Tables.Players, req.PlayerID, l.ProductID, l.Quantity, p.PerPlayerLimit))
		ops = append(ops, op{kind: opCounter, product: l.ProductID, line: l})
	}
	return effects, ops
}

// checkRegistration checks every line of req against the catalog (the
// product is listed and sellable at the price sent; lines of one product
// agree on the price) and the merged quantities against what no stock or
// limit could ever allow. Lines that pass are merged per product.
func checkRegistration(cat *catalog.Catalog, req stashapi.RegisterRequest) registration {
	reg := registration{
		statuses: make([]stashapi.RegistrationStatus, len(req.Registrations)),
		lineOf:   make([]string, len(req.Registrations)),
		products: map[string]catalog.Product{},
	}
	var accepted []Line
	prices := map[string]int64{}
	for i, r := range req.Registrations {
		reg.statuses[i] = stashapi.RegistrationStatus{GUID: r.GUID, ProductID: r.ProductID, Status: stashapi.RegistrationRegistered}
		p, status, msg := checkLine(cat, req.Currency, r, prices)
		if status != stashapi.RegistrationRegistered {
			reg.statuses[i].Status, reg.statuses[i].Message = status, msg
			reg.failed = true
			continue
		}
		reg.products[p.ProductID] = p
		reg.lineOf[i] = p.ProductID
		prices[p.ProductID] = r.Cents
		accepted = append(accepted, Line{ProductID: p.ProductID, GUID: p.GUID, Quantity: r.Quantity, Cents: r.Cents})
	}
	reg.lines = mergeLines(accepted)
	totals := map[string]int64{}
	for _, l := range reg.lines {
		totals[l.ProductID] = l.Quantity
	}
	// Quantities no stock or limit could ever allow fail without a write.
	for i, id := range reg.lineOf {
		if id == "" {
			continue
		}
		p, total := reg.products[id], totals[id]
		switch {
		case p.PerPlayerLimit != nil && total > *p.PerPlayerLimit:
			reg.statuses[i].Status, reg.statuses[i].Message = stashapi.RegistrationLimitExceeded, fmt.Sprintf("at most %d per player", *p.PerPlayerLimit)
			reg.failed = true
		case p.Stock != nil && total > *p.Stock:
			reg.statuses[i].Status, reg.statuses[i].Message = stashapi.RegistrationInsufficientInventory, "more than the whole stock"
			reg.failed = true
		}
	}
	return reg
}

// checkLine checks one registration line: the product it names, or the
// status and message of its failure. prices holds the price earlier lines
// gave each product.
func checkLine(cat *catalog.Catalog, cur string, r stashapi.Line, prices map[string]int64) (catalog.Product, string, string) {
	p, err := catalog.Find(cat, r.ProductID, r.GUID)
	switch {
	case errors.Is(err, catalog.ErrGUIDMismatch):
		return p, stashapi.RegistrationInvalidOffer, "guid does not match productId"
	case err != nil:
		return p, stashapi.RegistrationInvalidOffer, "unknown product"
	}
	switch err := catalog.Sellable(p, cur); {
	case errors.Is(err, catalog.ErrLocked):
		return p, stashapi.RegistrationLocked, "product is not purchasable now"
	case errors.Is(err, catalog.ErrNotPriced):
		return p, stashapi.RegistrationInvalidPrice, "product is not priced in " + cur
	}
	if !catalog.PricedAt(p, cur, r.Cents) {
		return p, stashapi.RegistrationInvalidPrice, fmt.Sprintf("cents %d differ from the price %d %s", r.Cents, p.Prices[cur], cur)
	}
	if earlier, seen := prices[p.ProductID]; seen && earlier != r.Cents {
		return p, stashapi.RegistrationInvalidPrice, "two lines give this product different prices"
	}
	return p, stashapi.RegistrationRegistered, ""
}

type reason struct{ status, message string }

// explain turns failed reserve and counter conditions into statuses,
// reading the products whose reservation failed.
func (s *Service) explain(ctx context.Context, cur string, products map[string]catalog.Product, ops []op, failed []int) (map[string]reason, error) {
	out := map[string]reason{}
	for _, i := range failed {
		o := ops[i]
		switch o.kind {
		case opCounter:
			out[o.product] = reason{stashapi.RegistrationLimitExceeded, fmt.Sprintf("at most %d per player", deref(products[o.product].PerPlayerLimit))}
		case opReserve:
			r, err := s.explainReserve(ctx, cur, products[o.product], o.line)
			if err != nil {
				return nil, err
			}
			out[o.product] = r
		}
	}
	return out, nil
}

func (s *Service) explainReserve(ctx context.Context, cur string, assumed catalog.Product, l Line) (reason, error) {
	row, found, err := catalog.Get(ctx, s.Store.DB, s.Store.Tables.Catalog, l.ProductID)
	if err != nil {
		return reason{}, err
	}
	sellable := catalog.Sellable(row, cur)
	switch {
	case !found || !row.Active:
		s.Catalog.Invalidate()
		return reason{stashapi.RegistrationInvalidOffer, "unknown product"}, nil
	case errors.Is(sellable, catalog.ErrLocked):
		s.Catalog.Invalidate()
		return reason{stashapi.RegistrationLocked, "product is not purchasable now"}, nil
	case !catalog.PricedAt(row, cur, l.Cents):
		s.Catalog.Invalidate()
		return reason{stashapi.RegistrationInvalidPrice, "the price changed"}, nil
	case !catalog.EqualOptional(row.PerPlayerLimit, assumed.PerPlayerLimit):
		s.Catalog.Invalidate()
		return reason{}, errStaleCatalog
	}
	return reason{stashapi.RegistrationInsufficientInventory, "not enough units left"}, nil
}

// reject records a failed registration (so a replay answers the same) and
// returns its statuses; lines that did not fail report UNSPECIFIED.
func (s *Service) reject(ctx context.Context, req stashapi.RegisterRequest, fp string, statuses []stashapi.RegistrationStatus) (stashapi.RegisterResponse, error) {
	for i := range statuses {
		if statuses[i].Status == stashapi.RegistrationRegistered {
			statuses[i].Status, statuses[i].Message = stashapi.RegistrationUnspecified, msgNotReserved
		}
	}
	resp := stashapi.RegisterResponse{Statuses: statuses}
	body, err := json.Marshal(resp)
	if err != nil {
		return stashapi.RegisterResponse{}, err
	}
	rec := dynamo.Record{
		Key: recordKeyOf(req.TransactionID), Fingerprint: fp, Response: body, CreatedAt: s.Now(),
		Attributes: map[string]types.AttributeValue{
			attrKind: dynamo.S(kindPurchase), attrState: dynamo.S(StateRejected), attrPlayer: dynamo.S(req.PlayerID), attrCurrency: dynamo.S(req.Currency),
		},
	}
	outcome, stored, err := s.Store.ApplyOnce(ctx, rec, nil)
	if err != nil {
		return stashapi.RegisterResponse{}, fmt.Errorf("record rejected registration %s: %w", req.TransactionID, err)
	}
	switch outcome {
	case dynamo.Applied:
		s.Log.InfoContext(ctx, "registration rejected", "transactionId", req.TransactionID, "playerId", req.PlayerID)
		return resp, nil
	case dynamo.Replayed:
		return decodeRegisterResponse(stored.Response)
	default:
		return conflictStatuses(req), nil
	}
}

func conflictStatuses(req stashapi.RegisterRequest) stashapi.RegisterResponse {
	out := make([]stashapi.RegistrationStatus, len(req.Registrations))
	for i, r := range req.Registrations {
		out[i] = stashapi.RegistrationStatus{GUID: r.GUID, ProductID: r.ProductID, Status: stashapi.RegistrationUnspecified, Message: msgTxReused}
	}
	return stashapi.RegisterResponse{Statuses: out}
}

func decodeRegisterResponse(b []byte) (stashapi.RegisterResponse, error) {
	var r stashapi.RegisterResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("stored register response: %w", err)
	}
	return r, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
