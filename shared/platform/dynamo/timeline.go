package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Timeline is a sparse global secondary index listing items newest first
// under an owner (a store's orders, a recipient's events) without one
// partition taking every write of a busy owner: an item's partition is
// (owner parts, UTC day, shard), its shard derived from its id, and its
// sort key the creation time (fixed width) then the id, so the sort keys
// of every partition compare as one sequence. A page queries the Shards
// partitions of a day, merges them and walks back day by day.
type Timeline struct {
	Table, Index   string
	PKAttr, SKAttr string
	Shards         int
}

// TimelineSK is the sort key of an item id created at: nanoseconds (19
// digits), "#", the id. Ids need no encoding behind a fixed-width prefix.
func TimelineSK(at time.Time, id string) string {
	return fmt.Sprintf("%019d#%s", at.UnixNano(), id)
}

// Day is the timeline's day of t (UTC, yyyy-mm-dd).
func Day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Shard is the shard of id among n.
func Shard(id string, n int) int {
	sum := FingerprintSum(id)
	return int(sum[0]) % n
}

// PartitionKey is the partition of the items of owner created on day in
// shard.
func (tl Timeline) PartitionKey(owner []string, day string, shard int) string {
	parts := append(append([]string{}, owner...), day, strconv.Itoa(shard))
	return Tuple(parts...)
}

// Attrs are the index attributes of item id of owner created at.
func (tl Timeline) Attrs(owner []string, id string, at time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		tl.PKAttr: S(tl.PartitionKey(owner, Day(at), Shard(id, tl.Shards))),
		tl.SKAttr: S(TimelineSK(at, id)),
	}
}

// TimelineQuery is one page's request.
type TimelineQuery struct {
	Owner    []string
	From, To time.Time // the range of creation times (inclusive); To zero: now
	Limit    int
	// Filter, when set, keeps only the items it matches (a FilterExpression:
	// the reads still count the items it drops).
	Filter *expression.ConditionBuilder
	// Cursor continues a page ("" the newest).
	Cursor string
	// MaxDays bounds how many days one page walks (0: 31): a sparse owner's
	// page stops early with a cursor to the days left.
	MaxDays int
}

// TimelinePage is a page: items newest first and the cursor of the next
// ("" none left in the range).
type TimelinePage struct {
	Items  []map[string]types.AttributeValue
	Cursor string
}

// position is a cursor: the day to read and the sort key every item of the
// page must come before ("" the day's newest).
type position struct {
	Day    string `json:"d"`
	Before string `json:"b,omitempty"`
}

// ErrBadCursor is the reason of a cursor this timeline did not make.
var ErrBadCursor = errors.New("dynamo: invalid cursor")

func encodeCursor(p position) string {
	js, _ := json.Marshal(p) // plain strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(js)
}

func decodeCursor(c string) (position, error) {
	var p position
	js, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || json.Unmarshal(js, &p) != nil {
		return position{}, ErrBadCursor
	}
	if _, err := time.Parse(time.DateOnly, p.Day); err != nil {
		return position{}, ErrBadCursor
	}
	if p.Before != "" && !strings.Contains(p.Before, "#") {
		return position{}, ErrBadCursor
	}
	return p, nil
}

// Page reads one page: the shards of each day are queried concurrently
// (Limit items each, newest first, before the cursor), merged, and the
// newest Limit kept; a day with fewer moves the page to the day before,
// until From or MaxDays.
func (tl Timeline) Page(ctx context.Context, db *dynamodb.Client, q TimelineQuery, now time.Time) (TimelinePage, error) {
	if q.Limit <= 0 {
		q.Limit = 25
	}
	if q.MaxDays <= 0 {
		q.MaxDays = 31
	}
	to := q.To
	if to.IsZero() || to.After(now) {
		to = now
	}
	pos := position{Day: Day(to), Before: TimelineSK(to.Add(time.Nanosecond), "")}
	if q.Cursor != "" {
		var err error
		if pos, err = decodeCursor(q.Cursor); err != nil {
			return TimelinePage{}, err
		}
	}
	var page TimelinePage
	for walked := 0; ; walked++ {
		day, _ := time.Parse(time.DateOnly, pos.Day)
		if !q.From.IsZero() && day.Before(time.Date(q.From.Year(), q.From.Month(), q.From.Day(), 0, 0, 0, 0, time.UTC)) {
			return page, nil // the range is read
		}
		if walked == q.MaxDays {
			page.Cursor = encodeCursor(pos)
			return page, nil
		}
		lower := ""
		if !q.From.IsZero() {
			lower = TimelineSK(q.From, "")
		}
		items, full, err := tl.day(ctx, db, q, pos, lower, q.Limit-len(page.Items))
		if err != nil {
			return TimelinePage{}, err
		}
		page.Items = append(page.Items, items...)
		if full {
			last := page.Items[len(page.Items)-1]
			page.Cursor = encodeCursor(position{Day: pos.Day, Before: StringAttr(last[tl.SKAttr])})
			return page, nil
		}
		pos = position{Day: Day(day.AddDate(0, 0, -1)), Before: TimelineSK(day, "")}
		if len(page.Items) == q.Limit {
			if q.From.IsZero() || q.From.Before(day) {
				page.Cursor = encodeCursor(pos)
			}
			return page, nil
		}
	}
}

// day reads the newest want items of pos's day before pos.Before (and at
// or after lower, "" none); full: there may be more in the day.
func (tl Timeline) day(ctx context.Context, db *dynamodb.Client, q TimelineQuery, pos position, lower string, want int) ([]map[string]types.AttributeValue, bool, error) {
	var (
		mu    sync.Mutex
		all   []map[string]types.AttributeValue
		more  bool
		first error
		wg    sync.WaitGroup
	)
	for shard := range tl.Shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			items, rest, err := tl.shard(ctx, db, q, tl.PartitionKey(q.Owner, pos.Day, shard), pos.Before, lower, want)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			all = append(all, items...)
			more = more || rest
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, false, first
	}
	sort.Slice(all, func(i, j int) bool { return StringAttr(all[i][tl.SKAttr]) > StringAttr(all[j][tl.SKAttr]) })
	if len(all) >= want {
		return all[:want], len(all) > want || more, nil
	}
	return all, false, nil
}

// shard reads up to want items of partition pk, newest first, with sort
// keys in [lower, before); rest: the partition may hold more.
func (tl Timeline) shard(ctx context.Context, db *dynamodb.Client, q TimelineQuery, pk, before, lower string, want int) ([]map[string]types.AttributeValue, bool, error) {
	key := expression.Key(tl.PKAttr).Equal(expression.Value(pk))
	if lower != "" {
		key = key.And(expression.Key(tl.SKAttr).Between(expression.Value(lower), expression.Value(before)))
	} else {
		key = key.And(expression.Key(tl.SKAttr).LessThan(expression.Value(before)))
	}
	b := expression.NewBuilder().WithKeyCondition(key)
	if q.Filter != nil {
		b = b.WithFilter(*q.Filter)
	}
	e := Build(b)
	in := &dynamodb.QueryInput{TableName: aws.String(tl.Table), IndexName: aws.String(tl.Index), KeyConditionExpression: e.KeyCondition(),
		FilterExpression: e.Filter(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(min(want+1, 1000)))} //nolint:gosec // G115: bounded just above
	var items []map[string]types.AttributeValue
	for {
		out, err := db.Query(ctx, in)
		if err != nil {
			return nil, false, fmt.Errorf("query %s of %s: %w", tl.Index, pk, err)
		}
		for _, item := range out.Items {
			if StringAttr(item[tl.SKAttr]) != before { // BETWEEN includes its upper bound
				items = append(items, item)
			}
		}
		if len(items) > want {
			return items[:want], true, nil
		}
		if out.LastEvaluatedKey == nil {
			return items, false, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// DayItems reads every item of owner created on day (its Shards partitions,
// concurrently, every page), with only the attributes named in attrs
// (none: all). Reads count every item of the day: for summaries of a day,
// not for pages.
func (tl Timeline) DayItems(ctx context.Context, db *dynamodb.Client, owner []string, day string, attrs ...string) ([]map[string]types.AttributeValue, error) {
	var (
		mu    sync.Mutex
		all   []map[string]types.AttributeValue
		first error
		wg    sync.WaitGroup
	)
	for shard := range tl.Shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := expression.NewBuilder().WithKeyCondition(expression.Key(tl.PKAttr).Equal(expression.Value(tl.PartitionKey(owner, day, shard))))
			if len(attrs) > 0 {
				proj := expression.NamesList(expression.Name(attrs[0]))
				for _, a := range attrs[1:] {
					proj = proj.AddNames(expression.Name(a))
				}
				b = b.WithProjection(proj)
			}
			e := Build(b)
			p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{TableName: aws.String(tl.Table), IndexName: aws.String(tl.Index),
				KeyConditionExpression: e.KeyCondition(), ProjectionExpression: e.Projection(), ExpressionAttributeNames: e.Names(),
				ExpressionAttributeValues: e.Values()})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				mu.Lock()
				if err != nil {
					if first == nil {
						first = fmt.Errorf("query %s of %s: %w", tl.Index, day, err)
					}
					mu.Unlock()
					return
				}
				all = append(all, out.Items...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return all, first
}
