// Package handler implements Stash's catalog lookup, GET /api/v1/catalog
// (CatalogService_GetCatalog): what the shop sells and, when Stash names the
// player, how many units of each this player may still buy. Stash shows the
// player an error page when this call fails, so it is answered from the
// per-container catalog cache (no DynamoDB call when warm; the last good copy
// when the table is slow or failing) plus at most one Query of the player's
// purchase counters, which the answer goes without when it fails.
package handler

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/shared/catalog"
	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/players"
	"github.com/tollgate-dev/tollgate/shared/refusal"
	"github.com/tollgate-dev/tollgate/shared/stashapi"
	"github.com/tollgate-dev/tollgate/shared/stashhttp"
	"github.com/tollgate-dev/tollgate/shared/validate"
)

// Settings read from the function's environment.
const (
	// EnvDefaultCurrency is the currency of a catalog whose request names no
	// region Tollgate maps to a currency the catalog prices in (ISO 4217;
	// default USD).
	EnvDefaultCurrency = "CATALOG_DEFAULT_CURRENCY"
	// EnvSectionTitle is the header of the catalog's one section (default
	// "Shop"; "-" sends no header).
	EnvSectionTitle = "CATALOG_SECTION_TITLE"
)

// Handler serves GET /api/v1/catalog.
type Handler struct {
	catalog         *catalog.Cache
	db              *dynamodb.Client
	players         string
	defaultCurrency string
	sectionTitle    string
	timeout         time.Duration
	log             *slog.Logger
}

// New builds the handler from its dependencies and loads the catalog.
func New(d deps.Deps) (http.Handler, error) {
	h, err := newHandler(d)
	if err != nil {
		return nil, err
	}
	sig, err := stashhttp.Signatures(d)
	if err != nil {
		return nil, err
	}
	h.catalog.Warm(context.Background())
	return stashhttp.HandleQuery(sig, d.Logger, stashapi.DecodeCatalogQuery, h.Catalog), nil
}

func newHandler(d deps.Deps) (*Handler, error) {
	cache, err := catalog.New(d)
	if err != nil {
		return nil, err
	}
	h := &Handler{catalog: cache, db: d.Store.DB, players: d.Store.Tables.Players, defaultCurrency: "USD", sectionTitle: "Shop", log: d.Logger}
	if v := d.Getenv(EnvDefaultCurrency); v != "" {
		cur, err := validate.ParseCurrency(v)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: want a 3-letter ISO 4217 code", EnvDefaultCurrency, v)
		}
		h.defaultCurrency = cur
	}
	switch v := d.Getenv(EnvSectionTitle); v {
	case "":
	case "-":
		h.sectionTitle = ""
	default:
		h.sectionTitle = v
	}
	if h.timeout, err = stashhttp.LookupTimeout(d); err != nil {
		return nil, err
	}
	return h, nil
}

// Catalog answers one catalog request: the shop's listing for the player
// (catalog.List). It fails only when no catalog was ever loaded (503) or
// the request names a currency nothing is priced in (400).
func (h *Handler) Catalog(ctx context.Context, q stashapi.CatalogQuery) (stashapi.CatalogResponse, error) {
	cat, err := h.snapshot(ctx)
	if err != nil {
		return stashapi.CatalogResponse{}, err
	}
	lq := catalog.ListingQuery{Currency: q.Currency, Region: q.Region, DefaultCurrency: h.defaultCurrency}
	if q.PlayerID != "" {
		lq.Bought = h.bought(ctx, q.PlayerID)
	}
	listing, err := catalog.List(cat, lq)
	if err != nil {
		return stashapi.CatalogResponse{}, refusal.New(catalog.ErrNotPriced, "field \"currency\": %v", err)
	}
	if len(listing.Unpriced) > 0 {
		h.log.DebugContext(ctx, "products not priced in the catalog's currency left out", "currency", listing.Currency, "products", listing.Unpriced)
	}
	return stashapi.NewCatalogResponse(listing, h.sectionTitle), nil
}

// snapshot returns the cached catalog, waiting at most the lookup timeout
// for a refresh (after which the cache hands out its last good copy).
func (h *Handler) snapshot(ctx context.Context) (*catalog.Catalog, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	cat, err := h.catalog.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return cat, nil
}

// bought reads the player's purchase counters in one Query. When DynamoDB
// fails or is slower than the lookup timeout, the catalog is answered
// without them (limits as for a player who bought nothing; registration
// still enforces the real ones) rather than not at all.
func (h *Handler) bought(ctx context.Context, playerID string) map[string]int64 {
	qctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	counts, err := players.Bought(qctx, h.db, h.players, playerID)
	if err != nil {
		h.log.WarnContext(ctx, "player's purchase counts unavailable; answering the catalog without them",
			"playerId", playerID, "error", err.Error())
		return nil
	}
	return counts
}
