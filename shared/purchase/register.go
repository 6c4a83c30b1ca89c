package purchase

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/catalog"
	"github.com/tollgate-dev/tollgate/shared/stashapi"
	"github.com/tollgate-dev/tollgate/shared/store"
)

// DefaultReservationTTL is how long a registration holds its units.
const DefaultReservationTTL = 30 * time.Minute

// Service runs the flow.
type Service struct {
	Store          store.Store
	Catalog        *catalog.Cache
	ReservationTTL time.Duration
	Now            func() time.Time
	Log            *slog.Logger
}

// staleCatalogRetries bounds how often a step is retried after a
// transaction showed the cached catalog was out of date.
const staleCatalogRetries = 2

// errStaleCatalog means a transaction failed on an assumption taken from the
// cached catalog; the cache was invalidated and the step can be retried.
var errStaleCatalog = errors.New("cached catalog out of date")

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
	for attempt := 0; ; attempt++ {
		resp, err := s.register(ctx, req, fp)
		if errors.Is(err, errStaleCatalog) && attempt < staleCatalogRetries {
			continue
		}
		return resp, err
	}
}

func registerFingerprint(req stashapi.RegisterRequest) string {
	parts := []string{req.PlayerID, req.Currency, strconv.FormatInt(req.DecimalPlaces, 10)}
	for _, l := range req.Registrations {
		parts = append(parts, l.ProductID, l.GUID, strconv.FormatInt(l.Cents, 10), strconv.FormatInt(l.Quantity, 10))
	}
	return digest(parts...)
}

func (s *Service) register(ctx context.Context, req stashapi.RegisterRequest, fp string) (stashapi.RegisterResponse, error) {
	cat, err := s.Catalog.Get(ctx)
	if err != nil {
		return stashapi.RegisterResponse{}, fmt.Errorf("catalog: %w", err)
	}
	statuses := make([]stashapi.RegistrationStatus, len(req.Registrations))
	products := map[string]catalog.Product{}
	lineOf := make([]string, len(req.Registrations)) // product id per request line
	totals := map[string]*Line{}
	failed := false
	for i, r := range req.Registrations {
		statuses[i] = stashapi.RegistrationStatus{GUID: r.GUID, ProductID: r.ProductID, Status: stashapi.RegistrationRegistered}
		p, ok := catalog.Lookup(cat, r.ProductID, r.GUID)
		status, msg := stashapi.RegistrationRegistered, ""
		switch {
		case !ok || !p.Active:
			status, msg = stashapi.RegistrationInvalidOffer, "unknown product"
		case r.ProductID != "" && r.GUID != "" && p.GUID != "" && p.GUID != r.GUID:
			status, msg = stashapi.RegistrationInvalidOffer, "guid does not match productId"
		case p.Locked:
			status, msg = stashapi.RegistrationLocked, "product is not purchasable now"
		default:
			price, priced := p.Prices[req.Currency]
			switch {
			case !priced:
				status, msg = stashapi.RegistrationInvalidPrice, "product is not priced in "+req.Currency
			case price != r.Cents:
				status, msg = stashapi.RegistrationInvalidPrice, fmt.Sprintf("cents %d differ from the price %d %s", r.Cents, price, req.Currency)
			case totals[p.ProductID] != nil && totals[p.ProductID].Cents != r.Cents:
				status, msg = stashapi.RegistrationInvalidPrice, "two lines give this product different prices"
			}
		}
		if status != stashapi.RegistrationRegistered {
			statuses[i].Status, statuses[i].Message = status, msg
			failed = true
			continue
		}
		products[p.ProductID] = p
		lineOf[i] = p.ProductID
		if t := totals[p.ProductID]; t != nil {
			t.Quantity += r.Quantity
		} else {
			totals[p.ProductID] = &Line{ProductID: p.ProductID, GUID: p.GUID, Quantity: r.Quantity, Cents: r.Cents}
		}
	}
	// Quantities no stock or limit could ever allow fail without a write.
	for i, id := range lineOf {
		if id == "" {
			continue
		}
		p, t := products[id], totals[id]
		switch {
		case p.PerPlayerLimit != nil && t.Quantity > *p.PerPlayerLimit:
			statuses[i].Status, statuses[i].Message = stashapi.RegistrationLimitExceeded, fmt.Sprintf("at most %d per player", *p.PerPlayerLimit)
			failed = true
		case p.Stock != nil && t.Quantity > *p.Stock:
			statuses[i].Status, statuses[i].Message = stashapi.RegistrationInsufficientInventory, "more than the whole stock"
			failed = true
		}
	}
	if failed {
		return s.reject(ctx, req, fp, statuses)
	}

	lines := make([]Line, 0, len(totals))
	for _, t := range totals {
		lines = append(lines, *t)
	}
	sort.Slice(lines, func(a, b int) bool { return lines[a].ProductID < lines[b].ProductID })
	now := s.Now()
	until := now.Add(s.ReservationTTL)
	response, err := json.Marshal(stashapi.RegisterResponse{Statuses: statuses})
	if err != nil {
		return stashapi.RegisterResponse{}, err
	}
	rec := store.Record{
		Key: RecordKey(req.TransactionID), Fingerprint: fp, Status: http.StatusOK, Response: response, CreatedAt: now,
		Attributes: map[string]types.AttributeValue{
			"kind":            sv("purchase"),
			attrState:         sv(StateRegistered),
			attrPlayer:        sv(req.PlayerID),
			attrCurrency:      sv(req.Currency),
			attrItems:         sv(linesJSON(lines)),
			attrItemsKey:      sv(itemsKey(lines)),
			attrReservedUntil: nv(until.UnixMilli()),
			attrSweepPK:       sv(sweepPartition(sweepShardOf(req.TransactionID))),
			attrSweepAt:       nv(until.UnixMilli()),
			"environment":     sv(req.Environment),
		},
	}
	effects := make([]types.TransactWriteItem, 0, 2*len(lines))
	ops := make([]op, 0, 2*len(lines))
	for _, l := range lines {
		p := products[l.ProductID]
		effects = append(effects, reserveOp(s.Store.Tables.Catalog, p, l, req.Currency))
		ops = append(ops, op{kind: opReserve, product: l.ProductID, line: l})
		effects = append(effects, countOp(s.Store.Tables.Players, req.PlayerID, l.ProductID, l.Quantity, p.PerPlayerLimit))
		ops = append(ops, op{kind: opCounter, product: l.ProductID, line: l})
	}
	outcome, stored, err := s.Store.ApplyOnce(ctx, rec, effects)
	var effectFailed *store.EffectFailedError
	switch {
	case errors.As(err, &effectFailed):
		reasons, err := s.explain(ctx, req.Currency, products, ops, effectFailed.Indexes)
		if err != nil {
			return stashapi.RegisterResponse{}, err
		}
		for i, id := range lineOf {
			if reason, ok := reasons[id]; ok {
				statuses[i].Status, statuses[i].Message = reason.status, reason.message
			}
		}
		return s.reject(ctx, req, fp, statuses)
	case err != nil:
		return stashapi.RegisterResponse{}, fmt.Errorf("register %s: %w", req.TransactionID, err)
	}
	switch outcome {
	case store.Applied:
		s.Log.InfoContext(ctx, "registered", "transactionId", req.TransactionID, "playerId", req.PlayerID, "products", len(lines))
		return stashapi.RegisterResponse{Statuses: statuses}, nil
	case store.Replayed:
		return decodeRegisterResponse(stored.Response)
	default:
		return conflictStatuses(req), nil
	}
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
	out, err := s.Store.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Store.Tables.Catalog), Key: productKey(l.ProductID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return reason{}, fmt.Errorf("read product %s: %w", l.ProductID, err)
	}
	row := out.Item
	limit := store.IntAttrPtr(row["perPlayerLimit"])
	switch {
	case len(row) == 0 || !store.BoolAttr(row["active"]):
		s.Catalog.Invalidate()
		return reason{stashapi.RegistrationInvalidOffer, "unknown product"}, nil
	case store.BoolAttr(row["locked"]):
		s.Catalog.Invalidate()
		return reason{stashapi.RegistrationLocked, "product is not purchasable now"}, nil
	case priceOf(row, cur) != l.Cents:
		s.Catalog.Invalidate()
		return reason{stashapi.RegistrationInvalidPrice, "the price changed"}, nil
	case !sameLimit(limit, assumed.PerPlayerLimit):
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
	rec := store.Record{
		Key: RecordKey(req.TransactionID), Fingerprint: fp, Status: http.StatusOK, Response: body, CreatedAt: s.Now(),
		Attributes: map[string]types.AttributeValue{
			"kind": sv("purchase"), attrState: sv(StateRejected), attrPlayer: sv(req.PlayerID), attrCurrency: sv(req.Currency),
		},
	}
	outcome, stored, err := s.Store.ApplyOnce(ctx, rec, nil)
	if err != nil {
		return stashapi.RegisterResponse{}, fmt.Errorf("record rejected registration %s: %w", req.TransactionID, err)
	}
	switch outcome {
	case store.Applied:
		s.Log.InfoContext(ctx, "registration rejected", "transactionId", req.TransactionID, "playerId", req.PlayerID)
		return resp, nil
	case store.Replayed:
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

func sameLimit(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func priceOf(row map[string]types.AttributeValue, cur string) int64 {
	m, ok := row["prices"].(*types.AttributeValueMemberM)
	if !ok {
		return -1
	}
	n := store.IntAttrPtr(m.Value[cur])
	if n == nil {
		return -1
	}
	return *n
}
