package stores_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// auditOp stands in for portal.AuditOp: a harmless Put on the PortalTable.
func (e *env) auditOp(n int) types.TransactWriteItem {
	return dynamo.PutNewOp(e.Tables.Portal, map[string]types.AttributeValue{dynamo.AttrPK: dynamo.S("test-audit"), dynamo.AttrSK: dynamo.S(fmt.Sprint(n))})
}

// The overview of a store with orders today, yesterday, 5 and 40 days
// ago in two currencies: sales per currency today and over 30 days (the
// 40-day-old order left out), closed days summarised once (the second
// overview reads them in one call), pools with the low one marked, and
// webhook health before and after an event dies.
func TestOverview(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			const key = "sk_test_overview_1"
			keys := func(sku string, n int) []string {
				out := make([]string, n)
				for i := range out {
					out[i] = fmt.Sprintf("%s-%03d", sku, i)
				}
				return out
			}
			f := stores.File{Stores: []stores.FileStore{{Slug: "shop", Name: "Shop", APIKeys: []string{key}, Products: []stores.FileProduct{
				{SKU: "BIG", Name: "Big", Prices: map[string]int64{"GBP": 500, "USD": 700}, LicenseKeys: keys("BIG", 50)},
				{SKU: "SMALL", Name: "Small", Prices: map[string]int64{"GBP": 100}, LicenseKeys: keys("SMALL", 12)},
			}}}}
			if _, err := e.admin.Import(ctx, f); err != nil {
				t.Fatal(err)
			}
			c := &clock{t: now}
			ful := stores.NewFulfiller(e.st, c.Now, stores.Options{})
			n := 0
			order := func(at time.Time, cur string, total int64, sku string) {
				c.Set(at)
				n++
				if _, err := ful.Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: key, ExternalReference: fmt.Sprintf("r%d", n),
					Currency: cur, TotalMinor: total, Items: []stores.Line{{SKU: sku, Quantity: 1}}}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 3 {
				order(now.Add(-time.Duration(i)*time.Hour), "GBP", 500, "BIG")
			}
			order(now.Add(-24*time.Hour), "GBP", 100, "SMALL")
			order(now.Add(-25*time.Hour), "GBP", 100, "SMALL")
			for i := range 3 {
				order(now.AddDate(0, 0, -5).Add(time.Duration(i)*time.Minute), "GBP", 500, "BIG")
			}
			order(now.AddDate(0, 0, -5), "USD", 700, "BIG")
			order(now.AddDate(0, 0, -40), "GBP", 100, "SMALL")
			c.Set(now)

			read := func() (stores.Overview, int) {
				cc := &ddbcalls.Counter{}
				o, found, err := stores.StoreOverview(ddbcalls.WithCounter(ctx, cc), e.st, "shop", now)
				if err != nil || !found {
					t.Fatalf("overview: %v, %v", found, err)
				}
				return o, cc.Total()
			}
			o, first := read()
			if got := o.Today["GBP"]; got.Orders != 3 || got.GrossMinor != 1500 || len(o.Today) != 1 {
				t.Fatalf("today %+v", o.Today)
			}
			if got := o.Last30Days["GBP"]; got.Orders != 8 || got.GrossMinor != 3200 {
				t.Fatalf("30 days GBP %+v", got)
			}
			if got := o.Last30Days["USD"]; got.Orders != 1 || got.GrossMinor != 700 {
				t.Fatalf("30 days USD %+v", got)
			}
			want := []stores.PoolLevel{{SKU: "BIG", Name: "Big", Left: 43, Total: 50}, {SKU: "SMALL", Name: "Small", Left: 9, Total: 12, Low: true}}
			if fmt.Sprint(o.Pools) != fmt.Sprint(want) {
				t.Fatalf("pools %+v, want %+v", o.Pools, want)
			}
			if len(o.Webhooks.Recent) != 5 || o.Webhooks.Undelivered != 0 || o.Webhooks.Recent[0].At.Before(o.Webhooks.Recent[4].At) {
				t.Fatalf("webhooks %+v", o.Webhooks)
			}
			again, second := read()
			if fmt.Sprint(again.Last30Days) != fmt.Sprint(o.Last30Days) {
				t.Fatalf("from the summaries %+v, from the index %+v", again.Last30Days, o.Last30Days)
			}
			// The store (1), today and yesterday from the index (8 each),
			// 28 closed days' summaries (1), the pools' shards (1), the
			// newest events (8) and the failed count (1).
			if second != 28 || first <= second {
				t.Fatalf("%d DynamoDB calls, then %d once the closed days are summarised; want 28 then", first, second)
			}

			box := outbox.Box{DB: e.st.DB, Table: e.Tables.Outbox}
			cl, ok, err := box.Claim(ctx, o.Webhooks.Recent[0].ID, now, time.Minute)
			if err != nil || !ok {
				t.Fatal(ok, err)
			}
			if _, err := box.Dead(ctx, cl, now, "410 Gone"); err != nil {
				t.Fatal(err)
			}
			if o, _ := read(); o.Webhooks.Undelivered != 1 {
				t.Fatalf("undelivered %d, want 1", o.Webhooks.Undelivered)
			}
			if _, found, err := stores.StoreOverview(ctx, e.st, "nobody", now); found || err != nil {
				t.Fatalf("no store: %v, %v", found, err)
			}
		})
	}
}

// A store's deliveries newest first; its failed ones replayed one by one
// (another store's event is not found) and all at once, each with its
// audit row.
func TestDeliveriesAndReplay(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			e.importPool(t, "shop", "SKU-1", 10, "sk_test_index_key_1")
			e.importPool(t, "other", "SKU-1", 10, "sk_test_other_key_1")
			c := &clock{t: now}
			ids := fulfilOrders(t, e, c, 4, time.Minute)
			p, err := stores.Deliveries(ctx, e.st, "shop", "", 5, now)
			if err != nil || len(p.Deliveries) != 5 || p.Cursor == "" {
				t.Fatalf("page: %+v, %v", p, err)
			}
			if d := p.Deliveries[0]; d.OrderID != ids[0] || d.Status != outbox.StatusPending || d.NextTry.IsZero() {
				t.Fatalf("newest %+v, want order %s pending", d, ids[0])
			}
			rest, err := stores.Deliveries(ctx, e.st, "shop", p.Cursor, 5, now)
			if err != nil || len(rest.Deliveries) != 4 { // and the pool's low_stock
				t.Fatalf("the rest: %+v, %v", rest, err)
			}
			box := outbox.Box{DB: e.st.DB, Table: e.Tables.Outbox}
			for _, d := range p.Deliveries[:3] {
				cl, ok, err := box.Claim(ctx, d.EventID, now, time.Minute)
				if err != nil || !ok {
					t.Fatal(ok, err)
				}
				if _, err := box.Dead(ctx, cl, now, "410 Gone"); err != nil {
					t.Fatal(err)
				}
			}
			failed, err := stores.FailedDeliveries(ctx, e.st, "shop", 10)
			if err != nil || len(failed) != 3 || failed[0].Status != outbox.StatusDead || failed[0].LastError != "410 Gone" {
				t.Fatalf("failed %+v, %v", failed, err)
			}
			if err := stores.ReplayDelivery(ctx, e.st, "other", failed[0].EventID, e.auditOp(0), now); !errors.Is(reasonOf(err), stores.ErrNoEvent) {
				t.Fatalf("another store's replay: %v", err)
			}
			if err := stores.ReplayDelivery(ctx, e.st, "shop", failed[0].EventID, e.auditOp(1), now); err != nil {
				t.Fatal(err)
			}
			if n, err := stores.ReplayFailed(ctx, e.st, "shop", e.auditOp(2), now); err != nil || n != 2 {
				t.Fatalf("replay all: %d, %v", n, err)
			}
			if failed, _ := stores.FailedDeliveries(ctx, e.st, "shop", 10); len(failed) != 0 {
				t.Fatalf("%d failed after the replays", len(failed))
			}
		})
	}
}
