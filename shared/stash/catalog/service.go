package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
)

// EnvCacheTTL is how long a function serves its catalog snapshot before
// reading the table again (Go duration; default 30s).
const EnvCacheTTL = "CATALOG_CACHE_TTL"

// New builds the catalog cache of a function from its dependencies (the
// catalog table, CATALOG_TABLE, and EnvCacheTTL) and loads it (Warm), at
// function start rather than in the first request.
func New(d deps.Deps) (*Cache, error) {
	if d.Store.Tables.Catalog == "" {
		return nil, fmt.Errorf("catalog: CATALOG_TABLE is not set")
	}
	ttl, err := d.Duration(EnvCacheTTL, 0)
	if err != nil {
		return nil, err
	}
	c := NewCache(d.Store.DB, d.Store.Tables.Catalog, CacheOptions{TTL: ttl, Now: d.Now, Logger: d.Logger})
	c.Warm(context.Background())
	return c, nil
}

// Warm loads the snapshot now (at function start, outside any request),
// logging rather than failing when the table cannot be read: the first
// request tries again.
func (c *Cache) Warm(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := c.Get(ctx); err != nil {
		c.log.WarnContext(ctx, "catalog not loaded at start", "error", err)
	}
}
