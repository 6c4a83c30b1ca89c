package stores_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

type env struct {
	*ddbtest.Env
	st    dynamo.Store
	admin stores.Admin
}

func newEnv(t *testing.T, b ddbtest.Backend) *env {
	t.Helper()
	e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{})
	st := dynamo.Store{DB: e.Stack.DB, Tables: e.Tables}
	return &env{Env: e, st: st, admin: stores.Admin{DB: e.Stack.DB, Table: e.Tables.Stores, Now: func() time.Time { return now }}}
}

// importPool makes store s with product sku holding n keys K-0001...
func (e *env) importPool(t *testing.T, slug, sku string, n int, apiKey string) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s-KEY-%04d", sku, i+1)
	}
	f := stores.File{Stores: []stores.FileStore{{Slug: slug, Name: "Store " + slug, APIKeys: []string{apiKey},
		Products: []stores.FileProduct{{SKU: sku, Name: sku, Prices: map[string]int64{"GBP": 100}, LicenseKeys: keys}}}}}
	if _, err := e.admin.Import(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	return keys
}

func reasonOf(err error) error {
	var r *refusal.Error
	if errors.As(err, &r) {
		return r.Reason
	}
	return nil
}

// 200 concurrent fulfilments of one SKU whose pool holds 100 keys: exactly
// 100 succeed, each key goes to exactly one order, the rest are refused for
// lack of keys, nothing is retried in a loop.
func TestConcurrentFulfilments(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			const key = "sk_test_concurrency_1"
			all := e.importPool(t, "shop", "SKU-1", 100, key)
			f := stores.NewFulfiller(e.st, func() time.Time { return now }, stores.Options{
				RateLimit: &ratelimit.Policy{Name: "fulfil", Limit: 1000, Window: time.Minute}})
			const n = 200
			results := make([]stores.Fulfilment, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = f.Fulfil(context.Background(), stores.FulfilRequest{Store: "shop", APIKey: key,
						ExternalReference: fmt.Sprintf("pay-%03d", i), Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}})
				}()
			}
			wg.Wait()
			owner := map[string]string{}
			ok, short := 0, 0
			for i := range n {
				switch {
				case errs[i] == nil:
					ok++
					ks := results[i].Order.Items[0].LicenseKeys
					if len(ks) != 1 {
						t.Fatalf("order %d got keys %v", i, ks)
					}
					if other, dup := owner[ks[0]]; dup {
						t.Fatalf("key %s given to %s and %s", ks[0], other, results[i].Order.ID)
					}
					owner[ks[0]] = results[i].Order.ID
				case errors.Is(reasonOf(errs[i]), stores.ErrInsufficientKeys):
					short++
					if !strings.Contains(errs[i].Error(), "SKU-1: 1 requested, 0 left") {
						t.Errorf("refusal %q does not name the SKU and what is left", errs[i])
					}
				default:
					t.Fatalf("fulfilment %d: %v", i, errs[i])
				}
			}
			if ok != 100 || short != 100 || len(owner) != 100 {
				t.Fatalf("%d fulfilled, %d refused, %d keys given; want 100, 100, 100", ok, short, len(owner))
			}
			got := make([]string, 0, len(owner))
			for k := range owner {
				got = append(got, k)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(all, ",") {
				t.Fatal("the keys given are not the pool's keys")
			}
			p, err := stores.ReadPool(context.Background(), e.Stack.DB, e.Tables.Stores, "shop", "SKU-1")
			if err != nil {
				t.Fatal(err)
			}
			if p.Available != 0 || p.Claimed != 100 || p.Total != 100 {
				t.Fatalf("pool counters %+v", p)
			}
		})
	}
}
