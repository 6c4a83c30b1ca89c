package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

// Settings of the lookups, read from the function's environment.
const (
	// EnvLookupTimeout bounds how long a lookup waits for DynamoDB: past
	// it, the catalog is answered from the last good snapshot and without
	// the player's own counts (Go duration; default DefaultLookupTimeout).
	EnvLookupTimeout = "LOOKUP_TIMEOUT"
	// EnvDefaultCurrency is the currency of a listing whose query names no
	// currency and no region that decides one (ISO 4217; default USD).
	EnvDefaultCurrency = "CATALOG_DEFAULT_CURRENCY"
)

// DefaultLookupTimeout applies when EnvLookupTimeout is unset.
const DefaultLookupTimeout = time.Second

// Shop answers the lookups a storefront makes: what a player may buy, and
// what one offer is. It reads the per-container cache (no DynamoDB call when
// warm, the last good snapshot when the table is slow or failing) and at
// most one Query of the player's counters, and never waits on DynamoDB
// longer than its timeout: a player's counts that do not come in time are
// left out (limits as for a player who bought nothing; registration still
// enforces the real ones) rather than failing the answer.
type Shop struct {
	cache           *Cache
	bought          func(ctx context.Context, playerID string) (map[string]int64, error)
	timeout         time.Duration
	defaultCurrency string
	log             *slog.Logger
}

// NewShop builds the lookups of a function from its dependencies, its
// catalog cache loaded.
func NewShop(d deps.Deps) (*Shop, error) {
	cache, err := New(d)
	if err != nil {
		return nil, err
	}
	s := &Shop{cache: cache, log: d.Logger, defaultCurrency: "USD"}
	s.bought = func(ctx context.Context, playerID string) (map[string]int64, error) {
		return players.Bought(ctx, d.Store.DB, d.Store.Tables.Players, playerID)
	}
	if s.timeout, err = d.Duration(EnvLookupTimeout, DefaultLookupTimeout); err != nil {
		return nil, err
	}
	if v := d.String(EnvDefaultCurrency, ""); v != "" {
		if s.defaultCurrency, err = validate.ParseCurrency(v); err != nil {
			return nil, fmt.Errorf("%s=%q: want a 3-letter ISO 4217 code", EnvDefaultCurrency, v)
		}
	}
	return s, nil
}

// Listing is List for one player (q.PlayerID; "" for none) from the cached
// catalog, the player's counts read in the same bounded wait. It fails only
// when no catalog was ever loaded, or with List's refusal of a currency
// nothing is priced in.
func (s *Shop) Listing(ctx context.Context, q ListingQuery) (Listing, error) {
	// One bounded wait for both reads.
	wait, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cat, err := s.snapshot(wait)
	if err != nil {
		return Listing{}, err
	}
	if q.DefaultCurrency == "" {
		q.DefaultCurrency = s.defaultCurrency
	}
	if q.PlayerID != "" && q.Bought == nil {
		q.Bought = s.playerCounts(wait, q.PlayerID)
	}
	l, err := List(cat, q)
	if err != nil {
		return Listing{}, err
	}
	if len(l.Unpriced) > 0 {
		s.log.DebugContext(ctx, "products not priced in the listing's currency left out", "currency", l.Currency, "products", l.Unpriced)
	}
	return l, nil
}

// Offer is Find in the cached catalog: the listed product named by
// productID (or guid), refused when there is none.
func (s *Shop) Offer(ctx context.Context, productID, guid string) (Product, error) {
	wait, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cat, err := s.snapshot(wait)
	if err != nil {
		return Product{}, err
	}
	return Find(cat, productID, guid)
}

// snapshot returns the cached catalog, waiting for a refresh at most until
// ctx's deadline (after which the cache hands out its last good copy).
func (s *Shop) snapshot(ctx context.Context) (*Catalog, error) {
	cat, err := s.cache.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return cat, nil
}

// playerCounts reads the player's purchase counters before ctx's
// deadline; nil (none) when DynamoDB fails or is slower.
func (s *Shop) playerCounts(ctx context.Context, playerID string) map[string]int64 {
	counts, err := s.bought(ctx, playerID)
	if err != nil {
		s.log.WarnContext(ctx, "player's purchase counts unavailable; answering the catalog without them",
			"playerId", playerID, "error", err.Error())
		return nil
	}
	return counts
}
