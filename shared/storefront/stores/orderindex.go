package stores

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// The order index: the portal lists a store's orders newest first, by
// status, source and date, and finds a buyer's. Two sparse global indexes
// hold only order rows, written with the row (Order.item: licensing
// fulfil and a checkout's placement), never changed afterwards (a status
// is a filter, not a key):
//
//	ordersPk ("orders", slug, yyyy-mm-dd, shard), ordersSk (createdAt ns, "#", id)   index "orders"
//	marketPk ("buyer", slug, sha256(lower-case email)), marketSk (= ordersSk)        index "market"
//
// The buyer's entry overloads the marketplace's index (market.go reads only
// its partition "market"): DynamoDB creates one global index per table
// update, so a second new index would fail the deploy.
// A store's orders of a day spread over OrderShards partitions (the shard
// from the order id), so no partition takes every write of a busy store;
// a buyer's partition takes only that buyer's orders. The email is never
// in a key: its digest is.
const (
	IndexOrders   = "orders"
	attrOrdersPK  = "ordersPk"
	attrOrdersSK  = "ordersSk"
	OrderShards   = 8
	OrdersPerPage = 25
	// MaxDaysPerPage bounds the days one page walks (OrderShards Queries
	// each): a quiet store's page stops there with a cursor to older days.
	MaxDaysPerPage = 14
)

// Refusals of a list's request (a 400).
var (
	ErrBadCursor = errors.New("stores: invalid cursor")
	ErrBadFilter = errors.New("stores: invalid filter")
)

// OrderStatuses and OrderSources are what a list may be filtered by.
var (
	OrderStatuses = []string{StatusPending, StatusFulfilled, StatusPartiallyRefunded, StatusRefunded, StatusCancelled}
	OrderSources  = []string{SourceAPI, SourceCheckout, SourceMarketplace}
)

func ordersTimeline(table string) dynamo.Timeline {
	return dynamo.Timeline{Table: table, Index: IndexOrders, PKAttr: attrOrdersPK, SKAttr: attrOrdersSK, Shards: OrderShards}
}

// buyerDigest is the key part of a buyer's address: never the address.
func buyerDigest(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

func buyerPK(slug, email string) string { return dynamo.Tuple("buyer", slug, buyerDigest(email)) }

// indexAttrs are the index attributes of order o's row.
func (o Order) indexAttrs() map[string]types.AttributeValue {
	attrs := ordersTimeline("").Attrs([]string{"orders", o.Store}, o.ID, o.CreatedAt)
	if o.CustomerEmail != "" {
		attrs[attrMarketPK] = dynamo.S(buyerPK(o.Store, o.CustomerEmail))
		attrs[attrMarketSK] = attrs[attrOrdersSK]
	}
	return attrs
}

// OrderFilter selects a store's orders.
type OrderFilter struct {
	Status string    // a Status* ("" any)
	Source string    // a Source* ("" any; SourceAPI also matches orders that record none)
	From   time.Time // created at or after (zero: MaxDays back per page, then on with the cursor)
	To     time.Time // created at or before (zero: now)
	Limit  int       // 1-100 (0: OrdersPerPage)
	Cursor string    // the previous page's ("" the newest)
}

// Check refuses a filter ListOrders cannot use (ErrBadFilter): an unknown
// status or source, a date range that ends before it starts.
func (f OrderFilter) Check() error {
	switch {
	case f.Status != "" && !slices.Contains(OrderStatuses, f.Status):
		return refusal.New(ErrBadFilter, "status must be one of %s, got %q", strings.Join(OrderStatuses, ", "), decode.Truncate(f.Status, 32))
	case f.Source != "" && !slices.Contains(OrderSources, f.Source):
		return refusal.New(ErrBadFilter, "source must be one of %s, got %q", strings.Join(OrderSources, ", "), decode.Truncate(f.Source, 32))
	case !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From):
		return refusal.New(ErrBadFilter, "the date range ends before it starts")
	}
	return nil
}

// OrderPage is a page of orders, newest first (no license keys), and the
// cursor of the next ("" none).
type OrderPage struct {
	Orders []Order
	Cursor string
}

// ListOrders lists store slug's orders newest first. A page queries the
// OrderShards partitions of a day concurrently and walks back a day at a
// time: a page of 25 on a day that has them is OrderShards calls; each
// empty day walked costs OrderShards more (at most MaxDaysPerPage days a
// page, then a cursor). Status and source filter what is read (reads count the rows
// they drop).
func ListOrders(ctx context.Context, st dynamo.Store, slug string, f OrderFilter, now time.Time) (OrderPage, error) {
	if err := f.Check(); err != nil {
		return OrderPage{}, err
	}
	if f.Limit <= 0 {
		f.Limit = OrdersPerPage
	}
	if f.Limit > 100 {
		f.Limit = 100
	}
	var conds []expression.ConditionBuilder
	if f.Status != "" {
		conds = append(conds, expression.Name(attrStatus).Equal(expression.Value(f.Status)))
	}
	switch f.Source {
	case "":
	case SourceAPI:
		conds = append(conds, expression.AttributeNotExists(expression.Name("source")).Or(expression.Name("source").Equal(expression.Value(SourceAPI))))
	default:
		conds = append(conds, expression.Name("source").Equal(expression.Value(f.Source)))
	}
	q := dynamo.TimelineQuery{Owner: []string{"orders", slug}, From: f.From, To: f.To, Limit: f.Limit, Cursor: f.Cursor, MaxDays: MaxDaysPerPage}
	if len(conds) > 0 {
		c := conds[0]
		for _, more := range conds[1:] {
			c = c.And(more)
		}
		q.Filter = &c
	}
	page, err := ordersTimeline(st.Tables.Stores).Page(ctx, st.DB, q, now)
	if errors.Is(err, dynamo.ErrBadCursor) {
		return OrderPage{}, refusal.New(ErrBadCursor, "the page cursor is not one this list made")
	}
	if err != nil {
		return OrderPage{}, fmt.Errorf("list orders of %s: %w", slug, err)
	}
	out := OrderPage{Cursor: page.Cursor, Orders: make([]Order, 0, len(page.Items))}
	for _, item := range page.Items {
		o, err := orderFromItem(item)
		if err != nil {
			return OrderPage{}, err
		}
		out.Orders = append(out.Orders, o)
	}
	return out, nil
}

// FindOrders answers a search of store slug's orders: an order id (that
// order), an external reference (the licensing order it names and the
// checkout order that paid it), or a buyer's email address (their orders,
// newest first, up to OrdersPerPage). One or two calls; none found: empty.
func FindOrders(ctx context.Context, st dynamo.Store, slug, query string) ([]Order, error) {
	query = strings.TrimSpace(query)
	switch {
	case query == "":
		return nil, nil
	case strings.Contains(query, "@"):
		return buyerOrders(ctx, st, slug, query)
	}
	keys := []dynamo.Key{OrderKey(slug, OrderID(slug, query)), paidRefKey(slug, query)}
	if id := strings.ToUpper(query); ValidOrderID(id) {
		keys = append(keys, OrderKey(slug, id))
	}
	got, err := batchGet(ctx, st.DB, map[string]types.KeysAndAttributes{st.Tables.Stores: {Keys: keys, ConsistentRead: aws.Bool(true)}})
	if err != nil {
		return nil, fmt.Errorf("find orders of %s: %w", slug, err)
	}
	var out []Order
	seen := map[string]bool{}
	var paidBy string
	for _, item := range got[st.Tables.Stores] {
		if dynamo.StringAttr(item[dynamo.AttrSK]) == skOrderRef {
			paidBy = dynamo.StringAttr(item[attrOrder])
			continue
		}
		o, err := orderFromItem(item)
		if err != nil {
			return nil, err
		}
		if !seen[o.ID] {
			seen[o.ID] = true
			out = append(out, o)
		}
	}
	if paidBy != "" && !seen[paidBy] {
		o, found, err := GetOrder(ctx, st, slug, paidBy)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, o)
		}
	}
	return out, nil
}

// buyerOrders reads the index of a buyer's orders: one Query.
func buyerOrders(ctx context.Context, st dynamo.Store, slug, email string) ([]Order, error) {
	e := dynamo.Build(expression.NewBuilder().WithKeyCondition(expression.Key(attrMarketPK).Equal(expression.Value(buyerPK(slug, email)))))
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(st.Tables.Stores), IndexName: aws.String(IndexMarket),
		KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(OrdersPerPage)})
	if err != nil {
		return nil, fmt.Errorf("find the orders of a buyer of %s: %w", slug, err)
	}
	orders := make([]Order, 0, len(out.Items))
	for _, item := range out.Items {
		o, err := orderFromItem(item)
		if err != nil {
			return nil, err
		}
		orders = append(orders, o)
	}
	return orders, nil
}

// ReindexOrders adds the index attributes to store slug's orders written
// before the indexes existed (slug "" every store's): a Scan of the
// table's order rows that lack them, and one conditional update each.
// Running it again finds none left: it is idempotent. It answers how many
// it indexed.
func ReindexOrders(ctx context.Context, st dynamo.Store, slug string) (int, error) {
	cond := expression.Name(dynamo.AttrSK).Equal(expression.Value(skOrder)).And(expression.AttributeNotExists(expression.Name(attrOrdersPK)))
	if slug != "" {
		cond = cond.And(expression.Name(attrStore).Equal(expression.Value(slug)))
	}
	e := dynamo.Build(expression.NewBuilder().WithFilter(cond))
	p := dynamodb.NewScanPaginator(st.DB, &dynamodb.ScanInput{TableName: aws.String(st.Tables.Stores), FilterExpression: e.Filter(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("reindex orders: %w", err)
		}
		for _, item := range page.Items {
			o, err := orderFromItem(item)
			if err != nil {
				return n, err
			}
			op := dynamo.UpdateOp(st.Tables.Stores, OrderKey(o.Store, o.ID), dynamo.SetAll(o.indexAttrs()),
				dynamo.Cond(dynamo.Exists().And(expression.AttributeNotExists(expression.Name(attrOrdersPK)))))
			u := op.Update
			_, err = st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
				ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
				ExpressionAttributeValues: u.ExpressionAttributeValues})
			var failed *types.ConditionalCheckFailedException
			if errors.As(err, &failed) {
				continue // indexed meanwhile
			}
			if err != nil {
				return n, fmt.Errorf("reindex order %s of %s: %w", o.ID, o.Store, err)
			}
			n++
		}
	}
	return n, nil
}

// ReindexOrders is ReindexOrders on the admin's table (cmd/stores
// reindex-orders).
func (a Admin) ReindexOrders(ctx context.Context, slug string) (int, error) {
	return ReindexOrders(ctx, a.st(), slug)
}
