package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

// The portal's overview of a store: sales today and over 30 days per
// currency, license keys left per SKU, webhook health.
//
// Sales of a day are read from the order index (every order row of the
// day, its OrderShards partitions). A day is summarised once it is closed
// (ended SalesGrace ago: a checkout order placed late in a day may be paid
// the next) into a row of its own, never read from the index again:
//
//	("daystat", slug, yyyy-mm-dd), "daystat"   sales: {currency: {orders, grossMinor, refundedMinor}} (JSON)
//
// So an overview reads today and the days still within the grace from the
// index (their cost grows with their orders: ~1 read unit per 4 KB of
// order rows) and the 28 or so closed days in one BatchGetItem. The
// ceiling: a summary keeps a closed day's refunds as they were when it was
// written (a refund later counts in the order's row, not in the summary).

// SalesGrace is how long after its end a day's sales may still change (a
// checkout order placed before midnight paid after it).
const SalesGrace = 24 * time.Hour

const skDayStat = "daystat"

func dayStatKey(slug, day string) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("daystat", slug, day), skDayStat)
}

// Sales are the paid orders of a period in one currency (integers, minor
// units): orders counted when fulfilled (paid), their totals, and what was
// refunded of them.
type Sales struct {
	Orders        int64 `json:"orders"`
	GrossMinor    int64 `json:"grossMinor"`
	RefundedMinor int64 `json:"refundedMinor"`
}

// NetMinor is what the period's orders kept.
func (s Sales) NetMinor() int64 { return s.GrossMinor - s.RefundedMinor }

// PoolLevel is what is left of a SKU's license keys.
type PoolLevel struct {
	SKU, Name   string
	Left, Total int64
	Low         bool // at or under the store's LowStockThreshold
}

// WebhookHealth is how a store's webhook deliveries go.
type WebhookHealth struct {
	Recent      []outbox.Stored // the newest events (up to 5)
	Undelivered int             // dead or undeliverable, until replayed
}

// Overview is the store's front page.
type Overview struct {
	Today, Last30Days map[string]Sales // currency -> sales
	Pools             []PoolLevel      // by SKU
	Webhooks          WebhookHealth
}

// StoreOverview reads store slug's overview at now. found false: no such
// store.
func StoreOverview(ctx context.Context, st dynamo.Store, slug string, now time.Time) (Overview, bool, error) {
	l, err := ReadListing(ctx, st.DB, st.Tables.Stores, slug)
	if err != nil || !l.Found {
		return Overview{}, false, err
	}
	out := Overview{}
	if out.Today, out.Last30Days, err = salesOf(ctx, st, slug, now); err != nil {
		return Overview{}, false, err
	}
	if out.Pools, err = poolLevels(ctx, st, l); err != nil {
		return Overview{}, false, err
	}
	if out.Webhooks, err = webhookHealth(ctx, st, slug, now); err != nil {
		return Overview{}, false, err
	}
	return out, true, nil
}

// salesOf adds the 30 days ending today: closed days from their
// summaries (made now when missing), the others from the index.
func salesOf(ctx context.Context, st dynamo.Store, slug string, now time.Time) (today, month map[string]Sales, err error) {
	now = now.UTC()
	todayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	month = map[string]Sales{}
	var closed []string
	for i := 0; i < 30; i++ {
		start := todayStart.AddDate(0, 0, -i)
		day := dynamo.Day(start)
		if !start.AddDate(0, 0, 1).Add(SalesGrace).After(now) {
			closed = append(closed, day)
			continue
		}
		s, err := daySales(ctx, st, slug, day)
		if err != nil {
			return nil, nil, err
		}
		if i == 0 {
			today = s
		}
		addSales(month, s)
	}
	summaries, err := daySummaries(ctx, st, slug, closed)
	if err != nil {
		return nil, nil, err
	}
	for _, day := range closed {
		s, ok := summaries[day]
		if !ok {
			if s, err = summariseDay(ctx, st, slug, day); err != nil {
				return nil, nil, err
			}
		}
		addSales(month, s)
	}
	return today, month, nil
}

func addSales(to, from map[string]Sales) {
	for cur, s := range from {
		t := to[cur]
		t.Orders += s.Orders
		t.GrossMinor += s.GrossMinor
		t.RefundedMinor += s.RefundedMinor
		to[cur] = t
	}
}

// daySales adds the paid orders of day from the index.
func daySales(ctx context.Context, st dynamo.Store, slug, day string) (map[string]Sales, error) {
	items, err := ordersTimeline(st.Tables.Stores).DayItems(ctx, st.DB, []string{"orders", slug}, day,
		attrStatus, "currency", "totalMinor", attrRefundedMinor, attrFulfilledAt)
	if err != nil {
		return nil, fmt.Errorf("sales of %s on %s: %w", slug, day, err)
	}
	out := map[string]Sales{}
	for _, item := range items {
		if dynamo.StringAttr(item[attrStatus]) != StatusFulfilled && item[attrFulfilledAt] == nil {
			continue // never paid
		}
		total, err := dynamo.IntAttr(item["totalMinor"])
		if err != nil {
			return nil, fmt.Errorf("sales of %s on %s: totalMinor %w", slug, day, err)
		}
		refunded, _ := dynamo.IntAttr(item[attrRefundedMinor]) // absent: none
		cur := dynamo.StringAttr(item["currency"])
		s := out[cur]
		s.Orders++
		s.GrossMinor += total
		s.RefundedMinor += refunded
		out[cur] = s
	}
	return out, nil
}

// daySummaries reads the summaries of days (one BatchGetItem per 100).
func daySummaries(ctx context.Context, st dynamo.Store, slug string, days []string) (map[string]map[string]Sales, error) {
	out := map[string]map[string]Sales{}
	for len(days) > 0 {
		n := min(len(days), 100)
		keys := make([]dynamo.Key, 0, n)
		for _, d := range days[:n] {
			keys = append(keys, dayStatKey(slug, d))
		}
		days = days[n:]
		got, err := batchGet(ctx, st.DB, map[string]types.KeysAndAttributes{st.Tables.Stores: {Keys: keys}})
		if err != nil {
			return nil, fmt.Errorf("sales summaries of %s: %w", slug, err)
		}
		for _, item := range got[st.Tables.Stores] {
			parts, err := dynamo.SplitTuple(dynamo.StringAttr(item[dynamo.AttrPK]))
			if err != nil || len(parts) != 3 {
				continue
			}
			s := map[string]Sales{}
			if err := json.Unmarshal([]byte(dynamo.StringAttr(item["sales"])), &s); err != nil {
				return nil, fmt.Errorf("sales summary of %s on %s: %w", slug, parts[2], err)
			}
			out[parts[2]] = s
		}
	}
	return out, nil
}

// summariseDay reads closed day's sales from the index and keeps them in
// its summary row: written once (a concurrent summary of the same day
// reads the same orders; the first stays).
func summariseDay(ctx context.Context, st dynamo.Store, slug, day string) (map[string]Sales, error) {
	s, err := daySales(ctx, st, slug, day)
	if err != nil {
		return nil, err
	}
	js, _ := json.Marshal(s) // plain values: cannot fail
	item := withKey(dayStatKey(slug, day), map[string]types.AttributeValue{"sales": dynamo.S(string(js))})
	err = st.Transact(ctx, []types.TransactWriteItem{dynamo.PutNewOp(st.Tables.Stores, item)})
	var failed *dynamo.ConditionFailedError
	if err != nil && !errors.As(err, &failed) {
		return nil, fmt.Errorf("keep the sales of %s on %s: %w", slug, day, err)
	}
	return s, nil
}

// poolLevels reads the keys left of every product of l: one BatchGetItem
// of the shards (a pool not yet migrated to shards: ReadPool, two calls).
func poolLevels(ctx context.Context, st dynamo.Store, l Listing) ([]PoolLevel, error) {
	var products []Product
	for _, p := range l.Products {
		if !p.legacyUnmigrated {
			products = append(products, p)
		}
	}
	shards, err := readShards(ctx, st.DB, st.Tables.Stores, l.Store.Slug, products)
	if err != nil {
		return nil, err
	}
	threshold := l.Store.LowStockThreshold()
	out := make([]PoolLevel, 0, len(l.Products))
	for _, p := range l.Products {
		level := PoolLevel{SKU: p.SKU, Name: p.Name, Total: p.KeysTotal}
		if p.legacyUnmigrated {
			pool, err := ReadPool(ctx, st.DB, st.Tables.Stores, l.Store.Slug, p.SKU)
			if err != nil {
				return nil, err
			}
			level.Left = pool.Available
		} else {
			for _, s := range shards[p.SKU] {
				level.Left += max(0, s.end-s.next) // as ReadPool counts Available
			}
		}
		level.Low = threshold > 0 && level.Left <= threshold
		out = append(out, level)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
	return out, nil
}

// webhookHealth reads the store's newest events (today and yesterday's
// index) and counts its failed ones.
func webhookHealth(ctx context.Context, st dynamo.Store, slug string, now time.Time) (WebhookHealth, error) {
	box := outbox.Box{DB: st.DB, Table: st.Tables.Outbox}
	recipient := dynamo.Tuple(RecipientKind, slug)
	recent, err := box.Recent(ctx, recipient, "", 5, 2, now)
	if err != nil {
		return WebhookHealth{}, err
	}
	n, err := box.CountUndelivered(ctx, recipient)
	if err != nil {
		return WebhookHealth{}, err
	}
	return WebhookHealth{Recent: recent.Events, Undelivered: n}, nil
}
