package stores_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// importSharded makes store slug with product sku holding n keys spread
// over shards shards (0: by the pool's size).
func (e *env) importSharded(t *testing.T, slug, sku string, n, shards int, apiKey string) []string {
	t.Helper()
	never := int64(0) // these pools are small: no low-stock announcements in the counts
	return e.importShardedLow(t, slug, sku, n, shards, apiKey, &never)
}

// importShardedLow is importSharded with the store's low-stock threshold
// (nil: the default).
func (e *env) importShardedLow(t *testing.T, slug, sku string, n, shards int, apiKey string, lowStock *int64) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s-KEY-%05d", sku, i+1)
	}
	f := stores.File{Stores: []stores.FileStore{{Slug: slug, Name: "Store " + slug, APIKeys: []string{apiKey}, LowStockThreshold: lowStock,
		Products: []stores.FileProduct{{SKU: sku, Name: sku, Prices: map[string]int64{"GBP": 100}, LicenseKeys: keys, PoolShards: shards}}}}}
	if _, err := e.admin.Import(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	return keys
}

func (e *env) fulfiller() *stores.Fulfiller {
	return stores.NewFulfiller(e.st, func() time.Time { return now }, stores.Options{
		RateLimit: &ratelimit.Policy{Name: "fulfil", Limit: 100000, Window: time.Minute}})
}

func (e *env) readPool(t *testing.T, slug, sku string) stores.Pool {
	t.Helper()
	p, err := stores.ReadPool(context.Background(), e.Stack.DB, e.Tables.Stores, slug, sku)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A pool sold to the last key across its shards by buyers in three
// containers at once: every key goes to exactly one order, none is left,
// the rest are refused naming the SKU and 0 left.
func TestShardedPoolSoldOut(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			const key = "sk_test_soldout_1"
			// moto_server answers one call at a time: a smaller sale there.
			keysInPool, buyers, shards := 120, 160, 8
			if strings.Contains(b.Name, "moto") {
				keysInPool, buyers, shards = 40, 56, 4
			}
			all := e.importSharded(t, "shop", "SKU-1", keysInPool, shards, key)
			if p := e.readPool(t, "shop", "SKU-1"); p.Shards != shards || p.Total != int64(keysInPool) || p.Available != int64(keysInPool) {
				t.Fatalf("pool %+v, want %d shards holding %d", p, shards, keysInPool)
			}
			containers := []*stores.Fulfiller{e.fulfiller(), e.fulfiller(), e.fulfiller()}

			results := make([]stores.Fulfilment, buyers)
			errs := make([]error, buyers)
			var wg sync.WaitGroup
			for i := range buyers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = containers[i%len(containers)].Fulfil(context.Background(), stores.FulfilRequest{Store: "shop", APIKey: key,
						ExternalReference: fmt.Sprintf("buyer-%03d", i), Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}})
				}()
			}
			wg.Wait()
			owner := map[string]string{}
			short := 0
			for i := range buyers {
				switch {
				case errs[i] == nil:
					k := results[i].Order.Items[0].LicenseKeys
					if len(k) != 1 {
						t.Fatalf("buyer %d got %v", i, k)
					}
					if other, dup := owner[k[0]]; dup {
						t.Fatalf("key %s given to %s and %s", k[0], other, results[i].Order.ID)
					}
					owner[k[0]] = results[i].Order.ID
				case errors.Is(reasonOf(errs[i]), stores.ErrInsufficientKeys):
					short++
					if !strings.Contains(errs[i].Error(), "SKU-1: 1 requested, 0 left") {
						t.Errorf("refusal %q", errs[i])
					}
				default:
					t.Fatalf("buyer %d: %v", i, errs[i])
				}
			}
			if len(owner) != keysInPool || short != buyers-keysInPool {
				t.Fatalf("%d keys given, %d refused; want %d and %d", len(owner), short, keysInPool, buyers-keysInPool)
			}
			got := make([]string, 0, len(owner))
			for k := range owner {
				got = append(got, k)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(all, ",") {
				t.Fatal("the keys given are not the pool's keys")
			}
			if p := e.readPool(t, "shop", "SKU-1"); p.Available != 0 || p.Claimed != int64(keysInPool) {
				t.Fatalf("pool after the sale %+v", p)
			}
		})
	}
}

// An order larger than any one shard takes its keys from several, all or
// nothing; a second container reads them back; a stale container pays one
// more transaction and no more.
func TestOrderSpanningShards(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			const key = "sk_test_spanning_1"
			e.importSharded(t, "shop", "SKU-1", 10, 4, key) // shards of 3, 3, 2, 2
			f := e.fulfiller()
			big := stores.FulfilRequest{Store: "shop", APIKey: key, ExternalReference: "big", Currency: "GBP", TotalMinor: 700,
				Items: []stores.Line{{SKU: "SKU-1", Quantity: 7}}}
			got, err := f.Fulfil(context.Background(), big)
			if err != nil {
				t.Fatal(err)
			}
			keys := got.Order.Items[0].LicenseKeys
			seen := map[string]bool{}
			for _, k := range keys {
				seen[k] = true
			}
			if len(keys) != 7 || len(seen) != 7 {
				t.Fatalf("keys %v, want 7 distinct", keys)
			}
			if p := e.readPool(t, "shop", "SKU-1"); p.Available != 3 || p.Claimed != 7 {
				t.Fatalf("pool %+v, want 3 left", p)
			}
			// Too many for what is left: nothing is taken.
			_, err = f.Fulfil(context.Background(), stores.FulfilRequest{Store: "shop", APIKey: key, ExternalReference: "too-big", Currency: "GBP",
				TotalMinor: 400, Items: []stores.Line{{SKU: "SKU-1", Quantity: 4}}})
			if !errors.Is(reasonOf(err), stores.ErrInsufficientKeys) || !strings.Contains(err.Error(), "SKU-1: 4 requested, 3 left") {
				t.Fatalf("too big: %v", err)
			}
			// Another container replays the order: the same keys.
			g := e.fulfiller()
			again, err := g.Fulfil(context.Background(), big)
			if err != nil || !again.Replayed || strings.Join(again.Order.Items[0].LicenseKeys, ",") != strings.Join(keys, ",") {
				t.Fatalf("replay: %+v, %v", again, err)
			}
			// f claims once (warm: two calls), then g, whose view of the
			// shards is older, claims: at most one more transaction.
			cc := &ddbcalls.Counter{}
			if _, err := f.Fulfil(ddbcalls.WithCounter(context.Background(), cc), stores.FulfilRequest{Store: "shop", APIKey: key,
				ExternalReference: "warm", Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}}); err != nil {
				t.Fatal(err)
			}
			if cc.Total() != 2 {
				t.Errorf("a warm fulfilment made %d DynamoDB calls, want 2", cc.Total())
			}
			for i := range 2 {
				cc := &ddbcalls.Counter{}
				if _, err := g.Fulfil(ddbcalls.WithCounter(context.Background(), cc), stores.FulfilRequest{Store: "shop", APIKey: key,
					ExternalReference: fmt.Sprintf("stale-%d", i), Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}}); err != nil {
					t.Fatal(err)
				}
				if cc.Total() > 3 {
					t.Errorf("a fulfilment from a stale container made %d DynamoDB calls, want at most 3", cc.Total())
				}
			}
			if p := e.readPool(t, "shop", "SKU-1"); p.Available != 0 || p.Claimed != 10 {
				t.Fatalf("pool %+v, want sold out", p)
			}
		})
	}
}

// A pool imported before pools had shards (its counters and every order's
// claim:<orderId> on the product row, its keys under ("pool", slug, sku)):
// old orders still read their keys, the first fulfilment migrates what is
// left into the legacy shard, new imports go to numbered shards, and the
// pool sells out to the last key. Migrating again changes nothing.
func TestLegacyPoolMigrates(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			const key = "sk_test_legacy_1"
			// The store and its key as today's import writes them, with no keys.
			e.importSharded(t, "shop", "OLD-1", 0, 0, key)
			oldOrder := stores.OrderID("shop", "old-order")
			e.writeLegacyPool(t, "shop", "OLD-1", 5, map[string]int64{oldOrder: 0}, 2)
			f := e.fulfiller()
			// The old order reads its keys from the product row's claim.
			o, err := f.Order(ctx, "shop", key, oldOrder)
			if err != nil || strings.Join(o.Items[0].LicenseKeys, ",") != "OLD-1-KEY-00001,OLD-1-KEY-00002" {
				t.Fatalf("old order: %+v, %v", o, err)
			}
			if p := e.readPool(t, "shop", "OLD-1"); p.Legacy || p.Available != 3 || p.Claimed != 2 {
				t.Fatalf("before migration %+v", p)
			}
			got, err := f.Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: key, ExternalReference: "new-1", Currency: "GBP", TotalMinor: 200,
				Items: []stores.Line{{SKU: "OLD-1", Quantity: 2}}})
			if err != nil || strings.Join(got.Order.Items[0].LicenseKeys, ",") != "OLD-1-KEY-00003,OLD-1-KEY-00004" {
				t.Fatalf("first fulfilment after the change: %+v, %v", got, err)
			}
			if p := e.readPool(t, "shop", "OLD-1"); !p.Legacy || p.Available != 1 || p.Claimed != 4 || p.Total != 5 {
				t.Fatalf("after migration %+v", p)
			}
			if migrated, err := stores.MigratePool(ctx, e.st, "shop", "OLD-1"); migrated || err != nil {
				t.Fatalf("second migration: %v, %v", migrated, err)
			}
			added, _, err := e.admin.ImportLicenseKeys(ctx, "shop", "OLD-1", []string{"NEW-KEY-1", "NEW-KEY-2", "OLD-1-KEY-00005"})
			if err != nil || added != 2 {
				t.Fatalf("import after migration: %d, %v", added, err)
			}
			p := e.readPool(t, "shop", "OLD-1")
			if p.Available != 3 || p.Total != 7 || p.Shards != 1 {
				t.Fatalf("after import %+v", p)
			}
			var rest []string
			for i := range 3 {
				got, err := f.Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: key, ExternalReference: fmt.Sprintf("rest-%d", i), Currency: "GBP",
					TotalMinor: 100, Items: []stores.Line{{SKU: "OLD-1", Quantity: 1}}})
				if err != nil {
					t.Fatal(err)
				}
				rest = append(rest, got.Order.Items[0].LicenseKeys...)
			}
			sort.Strings(rest)
			if strings.Join(rest, ",") != "NEW-KEY-1,NEW-KEY-2,OLD-1-KEY-00005" {
				t.Fatalf("the last keys: %v", rest)
			}
			if _, err := f.Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: key, ExternalReference: "none-left", Currency: "GBP",
				TotalMinor: 100, Items: []stores.Line{{SKU: "OLD-1", Quantity: 1}}}); !errors.Is(reasonOf(err), stores.ErrInsufficientKeys) {
				t.Fatalf("sold out: %v", err)
			}
		})
	}
}

// writeLegacyPool writes sku's pool as code from before shards kept it:
// n keys numbered 0..n-1 under ("pool", slug, sku), the product row's
// keysTotal/keysAvailable/keysClaimed and each order's claim:<orderId>,
// and the orders (lines of qty keys, no claims on the order).
func (e *env) writeLegacyPool(t *testing.T, slug, sku string, n int, orders map[string]int64, qty int64) {
	t.Helper()
	ctx := context.Background()
	var claimed int64
	var tx []types.TransactWriteItem
	for i := range n {
		k := fmt.Sprintf("%s-KEY-%05d", sku, i+1)
		digest := sha256.Sum256([]byte(k))
		tx = append(tx, dynamo.PutNewOp(e.Tables.Stores, map[string]types.AttributeValue{
			dynamo.AttrPK: dynamo.S(dynamo.Tuple("pool", slug, sku)), dynamo.AttrSK: dynamo.S(fmt.Sprintf("%012d", i)),
			"licenseKey": dynamo.S(k)}),
			dynamo.PutNewOp(e.Tables.Stores, map[string]types.AttributeValue{
				dynamo.AttrPK: dynamo.S(dynamo.Tuple("pooldigest", slug, sku)), dynamo.AttrSK: dynamo.S(hex.EncodeToString(digest[:])),
				"number": dynamo.N(int64(i))}))
	}
	product := map[string]types.AttributeValue{"keysTotal": dynamo.N(int64(n))}
	for id, start := range orders {
		product["claim:"+id] = dynamo.N(start)
		claimed = max(claimed, start+qty)
		tx = append(tx, dynamo.PutNewOp(e.Tables.Stores, map[string]types.AttributeValue{
			dynamo.AttrPK: dynamo.S(dynamo.Tuple("order", slug, id)), dynamo.AttrSK: dynamo.S("order"),
			"id": dynamo.S(id), "store": dynamo.S(slug), "externalReference": dynamo.S("old-order"), "status": dynamo.S("fulfilled"),
			"currency": dynamo.S("GBP"), "totalMinor": dynamo.N(200), "priceCheck": dynamo.S("match"),
			"lines": dynamo.S(fmt.Sprintf(`[{"sku":%q,"quantity":%d}]`, sku, qty)), "fingerprint": dynamo.S("old"),
			dynamo.AttrCreatedAt: dynamo.Time(now), "updatedAt": dynamo.Time(now)}))
	}
	product["keysClaimed"] = dynamo.N(claimed)
	product["keysAvailable"] = dynamo.N(int64(n) - claimed)
	tx = append(tx, dynamo.UpdateOp(e.Tables.Stores, dynamo.PKSK(dynamo.Tuple("store", slug), dynamo.Tuple("product", sku)),
		dynamo.SetAll(product), dynamo.Cond(dynamo.Exists())))
	if err := e.st.Transact(ctx, tx); err != nil {
		t.Fatal(err)
	}
}
