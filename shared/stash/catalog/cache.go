package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// CacheOptions tune NewCache. The zero value is right for Lambda.
type CacheOptions struct {
	TTL            time.Duration    // how long a snapshot is served without reading the table; default 30s
	RefreshTimeout time.Duration    // bound of one refresh (a Scan of the table); default 2s
	Now            func() time.Time // clock; default time.Now
	Logger         *slog.Logger     // default slog.Default()
}

// Cache is the per-container in-memory copy of the catalog table. It is safe
// for concurrent use; a warm Get costs an atomic load and a clock read.
type Cache struct {
	db      *dynamodb.Client
	table   string
	ttl     time.Duration
	timeout time.Duration
	backoff time.Duration
	now     func() time.Time
	log     *slog.Logger

	cur atomic.Pointer[entry]
	gen atomic.Uint64 // bumped by Invalidate

	mu     sync.Mutex // serializes refresh starts and stores of cur
	flight *flight    // the refresh in progress, if any
}

// entry is the snapshot served until freshUntil; after that Get refreshes.
type entry struct {
	cat        *Catalog
	freshUntil time.Time
}

// flight is one refresh that every concurrent Get waits for.
type flight struct {
	done chan struct{}
	cat  *Catalog
	err  error
}

// NewCache returns a cache of table that reads it on the first Get.
func NewCache(db *dynamodb.Client, table string, o CacheOptions) *Cache {
	c := &Cache{db: db, table: table, ttl: o.TTL, timeout: o.RefreshTimeout, now: o.Now, log: o.Logger}
	if c.ttl <= 0 {
		c.ttl = 30 * time.Second
	}
	if c.timeout <= 0 {
		c.timeout = 2 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.backoff = max(c.ttl/10, time.Second)
	return c
}

// Get returns the snapshot, refreshing it (one Scan, single-flight:
// concurrent callers wait for the same refresh) when older than the TTL.
//
// If a refresh fails or times out and an earlier snapshot exists, Get logs a
// warning and returns the earlier snapshot (no error); Gets keep serving it
// without trying again for a short back-off (TTL/10, at least 1s). With no
// snapshot at all it returns the error, and the next Get tries again.
//
// A caller whose ctx ends while it waits for a refresh gets the earlier
// snapshot if there is one, else ctx's error; the refresh itself goes on
// (bounded by RefreshTimeout) for the other callers.
func (c *Cache) Get(ctx context.Context) (*Catalog, error) {
	if e := c.cur.Load(); e != nil && c.now().Before(e.freshUntil) {
		return e.cat, nil
	}
	return c.refreshOrWait(ctx)
}

// Invalidate forces the next Get to refresh (callers use it when a
// transaction shows the cache was stale). A refresh already under way when
// Invalidate is called may have read the table before the change, so its
// result is served to the callers waiting for it but not kept as fresh.
func (c *Cache) Invalidate() {
	c.gen.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.cur.Load(); e != nil {
		c.cur.Store(&entry{cat: e.cat})
	}
}

func (c *Cache) refreshOrWait(ctx context.Context) (*Catalog, error) {
	c.mu.Lock()
	if e := c.cur.Load(); e != nil && c.now().Before(e.freshUntil) {
		c.mu.Unlock()
		return e.cat, nil
	}
	fl := c.flight
	if fl == nil {
		fl = &flight{done: make(chan struct{})}
		c.flight = fl
		// The refresh outlives the caller that started it: the others
		// wait for it too.
		go c.refresh(context.WithoutCancel(ctx), fl, c.gen.Load())
	}
	c.mu.Unlock()

	select {
	case <-fl.done:
		return fl.cat, fl.err
	case <-ctx.Done():
		if e := c.cur.Load(); e != nil {
			return e.cat, nil
		}
		return nil, fmt.Errorf("load catalog: %w", ctx.Err())
	}
}

func (c *Cache) refresh(ctx context.Context, fl *flight, gen uint64) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	products, err := Scan(ctx, c.db, c.table)
	now := c.now()

	c.mu.Lock()
	defer c.mu.Unlock()
	defer close(fl.done)
	c.flight = nil
	prev := c.cur.Load()
	switch {
	case err == nil:
		cat := newCatalogAt(products, now)
		fresh := now.Add(c.ttl)
		if c.gen.Load() != gen {
			fresh = time.Time{} // invalidated while reading: refresh again next time
		}
		c.cur.Store(&entry{cat: cat, freshUntil: fresh})
		fl.cat = cat
	case prev != nil:
		c.log.WarnContext(ctx, "catalog refresh failed; serving the previous snapshot",
			"table", c.table, "error", err.Error(),
			"snapshotAge", now.Sub(prev.cat.LoadedAt()).String(), "retryIn", c.backoff.String())
		c.cur.Store(&entry{cat: prev.cat, freshUntil: now.Add(c.backoff)})
		fl.cat = prev.cat
	default:
		fl.err = fmt.Errorf("load catalog: %w", err)
	}
}
