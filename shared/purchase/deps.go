package purchase

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/shared/auth"
	"github.com/tollgate-dev/tollgate/shared/catalog"
	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/stashhttp"
)

// Settings read from the function's environment.
const (
	EnvReservationTTL  = "RESERVATION_TTL"   // Go duration, default 30m
	EnvCatalogCacheTTL = "CATALOG_CACHE_TTL" // Go duration, default 30s
)

// FromDeps builds the service of a function from its dependencies.
func FromDeps(d deps.Deps) (*Service, error) {
	if d.Store.Tables.Catalog == "" {
		return nil, fmt.Errorf("purchase flow: CATALOG_TABLE is not set")
	}
	reservation, err := duration(d.Getenv, EnvReservationTTL, DefaultReservationTTL)
	if err != nil {
		return nil, err
	}
	cacheTTL, err := duration(d.Getenv, EnvCatalogCacheTTL, 0)
	if err != nil {
		return nil, err
	}
	return &Service{
		Store:          d.Store,
		Catalog:        catalog.NewCache(d.Store.DB, d.Store.Tables.Catalog, catalog.CacheOptions{TTL: cacheTTL, Now: d.Now, Logger: d.Logger}),
		ReservationTTL: reservation,
		Now:            d.Now,
		Log:            d.Logger,
	}, nil
}

// Warm loads the catalog cache now (at function start, outside any
// request), logging rather than failing when the table cannot be read: the
// first request retries.
func (s *Service) Warm(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := s.Catalog.Get(ctx); err != nil {
		s.Log.WarnContext(ctx, "catalog not loaded at start", "error", err)
	}
}

func duration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive Go duration such as 30m", name, v)
	}
	return d, nil
}

// Setup builds what a Stash purchase endpoint needs: the service with its
// catalog warmed, and the signature check configured from the environment.
func Setup(d deps.Deps) (*Service, auth.StashSignatures, error) {
	svc, err := FromDeps(d)
	if err != nil {
		return nil, auth.StashSignatures{}, err
	}
	sig, err := stashhttp.Signatures(d)
	if err != nil {
		return nil, auth.StashSignatures{}, err
	}
	svc.Warm(context.Background())
	return svc, sig, nil
}
