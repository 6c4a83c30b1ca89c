package stores_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// A DynamoDB fault (500, throttle, timeout, an answer lost after the
// write) at every call of a fulfilment, from one shard or spanning
// several: the call fails or answers, the store's retry answers the same
// order with the same keys the faulty call answered, and no key is lost or
// given twice (the pool's counters add up).
func TestFulfilFaultSweep(t *testing.T) {
	pools := []struct {
		name         string
		keys, shards int
		quantity     int64
	}{
		{name: "one shard", keys: 5, quantity: 2},
		// Shards of 2, 2, 2: three keys come from two shards.
		{name: "spanning shards", keys: 6, shards: 3, quantity: 3},
	}
	for _, b := range ddbtest.Backends(t) {
		for _, pool := range pools {
			t.Run(b.Name+" "+pool.name, func(t *testing.T) {
				run := func(t *testing.T, inject func(call int) ddbtest.Fault) (*env, stores.Fulfilment, error, stores.Fulfilment, error) {
					e := newFaultEnv(t, b)
					e.importSharded(t, "shop", "SKU-1", pool.keys, pool.shards, "sk_test_faults_1")
					f := stores.NewFulfiller(e.st, func() time.Time { return now }, stores.Options{
						RateLimit: &ratelimit.Policy{Name: "fulfil", Limit: 1000, Window: time.Minute}})
					req := stores.FulfilRequest{Store: "shop", APIKey: "sk_test_faults_1", ExternalReference: "pay-1", Currency: "GBP",
						TotalMinor: 100 * pool.quantity, Items: []stores.Line{{SKU: "SKU-1", Quantity: pool.quantity}}}
					e.Transport.Reset()
					if inject != nil {
						e.Transport.Inject(func(call int, _ string) ddbtest.Fault { return inject(call) })
					}
					first, ferr := f.Fulfil(context.Background(), req)
					e.Transport.Inject(nil)
					// A new container retries, as the store's server would.
					g := stores.NewFulfiller(e.st, func() time.Time { return now }, stores.Options{
						RateLimit: &ratelimit.Policy{Name: "fulfil", Limit: 1000, Window: time.Minute}})
					retry, rerr := g.Fulfil(context.Background(), req)
					return e, first, ferr, retry, rerr
				}
				ref, want, err, _, _ := run(t, nil)
				if err != nil || len(want.Order.Items) != 1 || int64(len(want.Order.Items[0].LicenseKeys)) != pool.quantity {
					t.Fatalf("fault-free run: %+v, %v", want, err)
				}
				calls := len(ref.Transport.Calls())
				if calls == 0 {
					t.Fatal("no DynamoDB calls counted")
				}
				for n := 1; n <= calls; n++ {
					for _, fault := range ddbtest.AllFaults {
						t.Run(fmt.Sprintf("call %d %s", n, fault), func(t *testing.T) {
							e, first, ferr, got, err := run(t, func(call int) ddbtest.Fault {
								if call == n {
									return fault
								}
								return ddbtest.NoFault
							})
							if err != nil {
								t.Fatalf("retry: %v", err)
							}
							// Which shards a claim takes is chosen at random: the
							// order and its number of keys are the fault-free run's.
							keys := strings.Join(got.Order.Items[0].LicenseKeys, ",")
							distinct := map[string]bool{}
							for _, k := range got.Order.Items[0].LicenseKeys {
								distinct[k] = true
							}
							if got.Order.ID != want.Order.ID || int64(len(distinct)) != pool.quantity {
								t.Fatalf("retry answered %s %s, want %s with %d keys", got.Order.ID, keys, want.Order.ID, pool.quantity)
							}
							if ferr == nil && strings.Join(first.Order.Items[0].LicenseKeys, ",") != keys {
								t.Fatalf("the faulty call answered keys %v, the retry %s", first.Order.Items[0].LicenseKeys, keys)
							}
							p, err := stores.ReadPool(context.Background(), e.Stack.DB, e.Tables.Stores, "shop", "SKU-1")
							if err != nil {
								t.Fatal(err)
							}
							if total := int64(pool.keys); p.Claimed != pool.quantity || p.Available != total-pool.quantity || p.Total != total {
								t.Fatalf("pool counters %+v, want %d claimed and %d left of %d", p, pool.quantity, total-pool.quantity, total)
							}
						})
					}
				}
			})
		}
	}
}

// Re-importing the same stores file adds nothing twice: keys, products
// and the license-key pool stay as they were.
func TestReimportAddsNothing(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.importPool(t, "shop", "SKU-1", 4, "sk_test_reimport_1")
			before, err := stores.ReadPool(context.Background(), e.Stack.DB, e.Tables.Stores, "shop", "SKU-1")
			if err != nil {
				t.Fatal(err)
			}
			e.importPool(t, "shop", "SKU-1", 4, "sk_test_reimport_1")
			after, err := stores.ReadPool(context.Background(), e.Stack.DB, e.Tables.Stores, "shop", "SKU-1")
			if err != nil {
				t.Fatal(err)
			}
			if b, a := before, after; b.Total != 4 || a.Total != 4 || a.Available != 4 {
				t.Fatalf("pool before %+v, after %+v; want 4 keys once", b, a)
			}
		})
	}
}

// newFaultEnv is newEnv with the SDK's own retries off, so every injected
// fault reaches the fulfilment.
func newFaultEnv(t *testing.T, b ddbtest.Backend) *env {
	t.Helper()
	e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{MaxAttempts: 1})
	st := dynamo.Store{DB: e.Stack.DB, Tables: e.Tables}
	return &env{Env: e, st: st, admin: stores.Admin{DB: e.Stack.DB, Table: e.Tables.Stores, Now: func() time.Time { return now }}}
}
