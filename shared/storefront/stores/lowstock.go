package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

// DefaultLowStockThreshold is a store's low-stock threshold when its
// stores file sets none: a pool with this many keys left or fewer is low.
const DefaultLowStockThreshold = 10

// LowStockThreshold is the store's threshold (lowStockThreshold; unset:
// DefaultLowStockThreshold; 0: never low).
func (s Store) LowStockThreshold() int64 {
	if s.lowStockThreshold == nil {
		return DefaultLowStockThreshold
	}
	return *s.lowStockThreshold
}

// Claimed reports what a committed claim of items left in their pools: the
// keys left per SKU as this container sees them (LicenseKeysLeft; other
// containers' claims since may make it fewer), and, when a pool is at or
// under the store's threshold, the crossing: the shards are read afresh
// and, if the pool is low indeed, the product.low_stock event is enqueued
// once per crossing (its id names the pool's size, so a restocked pool
// that runs low again is announced again) and LicensePoolLowStock counted.
// It changes nothing the buyer gets: an error is returned for the log.
func (f *Fulfiller) Claimed(ctx context.Context, slug string, items []OrderItem) error {
	listing, err := f.cache.get(ctx, f.st.DB, f.st.Tables.Stores, slug, f.now())
	if err != nil {
		return err
	}
	threshold := listing.Store.LowStockThreshold()
	var errs []error
	for _, it := range items {
		p, ok := listing.Products[it.SKU]
		if !ok {
			continue
		}
		left, known := f.pools.left(slug, it.SKU)
		if !known {
			continue
		}
		metrics.LicenseKeysLeft.Add(ctx, float64(left), slug, it.SKU)
		if threshold <= 0 || left > threshold || !f.pools.announce(slug, it.SKU, p.KeysTotal, false) {
			continue
		}
		p.SKU = it.SKU
		if err := f.pools.load(ctx, slug, []Product{p}, true); err != nil {
			errs = append(errs, err)
			continue
		}
		if left, _ = f.pools.left(slug, it.SKU); left > threshold {
			continue
		}
		ev := lowStockEvent(slug, it.SKU, p.KeysTotal, left, threshold, f.now())
		op, err := outbox.EnqueueOp(f.st.Tables.Outbox, ev)
		if err == nil {
			err = f.st.Transact(ctx, []types.TransactWriteItem{op})
		}
		var failed *dynamo.ConditionFailedError
		switch {
		case errors.As(err, &failed): // announced by another container
		case err != nil:
			errs = append(errs, fmt.Errorf("low stock of %s/%s: %w", slug, it.SKU, err))
			continue
		default:
			metrics.LicensePoolLowStock.Add(ctx, 1, slug)
		}
		f.pools.announce(slug, it.SKU, p.KeysTotal, true)
	}
	return errors.Join(errs...)
}

// lowStockEvent is the store's product.low_stock webhook of a pool of
// total keys with left of them left.
func lowStockEvent(slug, sku string, total, left, threshold int64, at time.Time) outbox.Event {
	id := "store:" + slug + ":product:" + sku + ":low_stock:" + strconv.FormatInt(total, 10)
	payload := map[string]any{"event": "product.low_stock", "sku": sku, "keys_left": left, "threshold": threshold,
		"event_id": id, "occurred_at": at.UTC().Format(time.RFC3339)}
	js, _ := json.Marshal(payload) // plain values: cannot fail
	return outbox.Event{ID: id, Recipient: dynamo.Tuple(RecipientKind, slug), Type: "product.low_stock", Payload: js, At: at}
}

// left is the keys left in (slug, sku)'s pool as this container last saw
// its shards (known false: not loaded).
func (p *pools) left(slug, sku string) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := p.m[dynamo.Tuple(slug, sku)]
	if v == nil {
		return 0, false
	}
	var n int64
	for _, s := range v.shards {
		n += s.state.left()
	}
	return n, true
}

// announce reports whether the crossing of (slug, sku)'s pool of total keys
// is still to be announced by this container, and with done records that
// it was.
func (p *pools) announce(slug, sku string, total int64, done bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := dynamo.Tuple(slug, sku, strconv.FormatInt(total, 10))
	if done {
		p.announced[k] = true
	}
	return !p.announced[k]
}
