package stores_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// clock is a test's settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// fulfilOrders makes n licensing orders of shop, one every step back from
// the clock's time (the newest last), buyers alternating between two
// addresses; it answers their ids, newest first.
func fulfilOrders(t *testing.T, e *env, c *clock, n int, step time.Duration) []string {
	t.Helper()
	start := c.Now()
	f := stores.NewFulfiller(e.st, c.Now, stores.Options{})
	ids := make([]string, n)
	for i := range n {
		c.Set(start.Add(-time.Duration(n-1-i) * step))
		email := []string{"Alice@Example.com", "bob@example.com"}[i%2]
		got, err := f.Fulfil(context.Background(), stores.FulfilRequest{Store: "shop", APIKey: "sk_test_index_key_1", CustomerEmail: email,
			ExternalReference: fmt.Sprintf("ref-%03d", i), Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		ids[n-1-i] = got.Order.ID
	}
	c.Set(start)
	return ids
}

// A store's orders over three days, listed 25 a page: newest first, each
// once, the cursor walking back across days; a page of 25 from a day that
// has them is OrderShards Queries. Filters by source, status and date
// range; search by id, reference and buyer (any case of the address).
func TestOrderIndex(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.importPool(t, "shop", "SKU-1", 80, "sk_test_index_key_1")
			c := &clock{t: now}
			ids := fulfilOrders(t, e, c, 70, 20*time.Minute) // 23 hours: 37 today, 33 yesterday
			ctx := context.Background()

			var got []string
			cursor := ""
			for page := 0; ; page++ {
				cc := &ddbcalls.Counter{}
				p, err := stores.ListOrders(ddbcalls.WithCounter(ctx, cc), e.st, "shop", stores.OrderFilter{Cursor: cursor, From: now.AddDate(0, 0, -5)}, now)
				if err != nil {
					t.Fatal(err)
				}
				if page == 0 && (len(p.Orders) != 25 || cc.Total() != stores.OrderShards) {
					t.Fatalf("first page: %d orders in %d calls, want 25 in %d", len(p.Orders), cc.Total(), stores.OrderShards)
				}
				for _, o := range p.Orders {
					got = append(got, o.ID)
				}
				if p.Cursor == "" {
					break
				}
				cursor = p.Cursor
				if page > 10 {
					t.Fatal("the cursor does not end")
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(ids) {
				t.Fatalf("listed %d orders %v\nwant %d %v", len(got), got, len(ids), ids)
			}

			// A range inside one day: only its orders.
			from, to := now.Add(-10*time.Hour), now.Add(-5*time.Hour)
			p, err := stores.ListOrders(ctx, e.st, "shop", stores.OrderFilter{From: from, To: to, Limit: 100}, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Orders {
				if o.CreatedAt.Before(from) || o.CreatedAt.After(to) {
					t.Fatalf("order at %s outside [%s, %s]", o.CreatedAt, from, to)
				}
			}
			if len(p.Orders) != 16 || p.Cursor != "" {
				t.Fatalf("%d orders in 5 hours (cursor %q), want 16", len(p.Orders), p.Cursor)
			}
			for _, f := range []stores.OrderFilter{{Source: stores.SourceCheckout}, {Status: stores.StatusRefunded}} {
				f.From = now.AddDate(0, 0, -5)
				p, err := stores.ListOrders(ctx, e.st, "shop", f, now)
				if err != nil || len(p.Orders) != 0 {
					t.Fatalf("filter %+v: %d orders, %v", f, len(p.Orders), err)
				}
			}
			p, err = stores.ListOrders(ctx, e.st, "shop", stores.OrderFilter{Source: stores.SourceAPI, Status: stores.StatusFulfilled, From: now.AddDate(0, 0, -5), Limit: 100}, now)
			if err != nil || len(p.Orders) != 70 {
				t.Fatalf("api, fulfilled: %d orders, %v", len(p.Orders), err)
			}
			if _, err := stores.ListOrders(ctx, e.st, "shop", stores.OrderFilter{Cursor: "not-a-cursor"}, now); !errors.Is(reasonOf(err), stores.ErrBadCursor) {
				t.Fatalf("a forged cursor: %v", err)
			}
			for _, f := range []stores.OrderFilter{{Status: "paid"}, {Source: "<script>"}, {From: now, To: now.Add(-time.Hour)}} {
				if _, err := stores.ListOrders(ctx, e.st, "shop", f, now); !errors.Is(reasonOf(err), stores.ErrBadFilter) {
					t.Fatalf("filter %+v: %v", f, err)
				}
			}
			// Another store sees none of them.
			p, err = stores.ListOrders(ctx, e.st, "other", stores.OrderFilter{From: now.AddDate(0, 0, -5)}, now)
			if err != nil || len(p.Orders) != 0 {
				t.Fatalf("another store: %d orders, %v", len(p.Orders), err)
			}

			for _, c := range []struct {
				store, query string
				want         int
			}{
				{"shop", ids[3], 1}, {"shop", "ref-007", 1}, {"shop", "ALICE@example.COM", 25}, {"shop", "nobody@example.com", 0},
				{"other", ids[3], 0}, {"other", "ref-007", 0}, {"other", "alice@example.com", 0},
			} {
				found, err := stores.FindOrders(ctx, e.st, c.store, c.query)
				if err != nil || len(found) != c.want {
					t.Fatalf("search %q in %s: %d orders, %v; want %d", c.query, c.store, len(found), err, c.want)
				}
			}
		})
	}
}

// Orders written before the index: reindex-orders adds them, once.
func TestReindexOrders(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	e := newEnv(t, b)
	e.importPool(t, "shop", "SKU-1", 10, "sk_test_index_key_1")
	c := &clock{t: now}
	ids := fulfilOrders(t, e, c, 3, time.Minute)
	ctx := context.Background()
	for _, id := range ids { // as written before the index existed
		if _, err := e.st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(e.Tables.Stores), Key: stores.OrderKey("shop", id),
			UpdateExpression: aws.String("REMOVE ordersPk, ordersSk, marketPk, marketSk")}); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := stores.ListOrders(ctx, e.st, "shop", stores.OrderFilter{From: now.Add(-time.Hour)}, now); err != nil || len(p.Orders) != 0 {
		t.Fatalf("before: %d, %v", len(p.Orders), err)
	}
	for i, want := range []int{3, 0} {
		n, err := stores.ReindexOrders(ctx, e.st, "shop")
		if err != nil || n != want {
			t.Fatalf("run %d: %d indexed, %v; want %d", i, n, err, want)
		}
	}
	p, err := stores.ListOrders(ctx, e.st, "shop", stores.OrderFilter{From: now.Add(-time.Hour)}, now)
	if err != nil || len(p.Orders) != 3 {
		t.Fatalf("after: %d, %v", len(p.Orders), err)
	}
	if found, err := stores.FindOrders(ctx, e.st, "shop", "bob@example.com"); err != nil || len(found) != 1 {
		t.Fatalf("buyer after: %d, %v", len(found), err)
	}
}
