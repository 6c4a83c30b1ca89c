package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// RecentPage is a page of a recipient's events, newest first, and the
// cursor of the next ("" none).
type RecentPage struct {
	Events []Stored
	Cursor string
}

// ErrBadCursor is the reason of a cursor Recent did not make.
var ErrBadCursor = dynamo.ErrBadCursor

// Recent lists recipient's events newest first, limit a page, from the
// index "recipient": RecipientShards Queries per day walked (at most
// maxDays a page, 0: 31), eventually consistent.
func (b Box) Recent(ctx context.Context, recipient, cursor string, limit, maxDays int, now time.Time) (RecentPage, error) {
	page, err := recipientTimeline(b.Table).Page(ctx, b.DB, dynamo.TimelineQuery{Owner: []string{"recipient", recipient}, Limit: limit,
		Cursor: cursor, MaxDays: maxDays}, now)
	if err != nil {
		return RecentPage{}, fmt.Errorf("outbox: events of %s: %w", recipient, err)
	}
	out := RecentPage{Cursor: page.Cursor, Events: make([]Stored, 0, len(page.Items))}
	for _, item := range page.Items {
		s, err := FromItem(item)
		if err != nil {
			return RecentPage{}, err
		}
		out.Events = append(out.Events, s)
	}
	return out, nil
}

// Undelivered lists recipient's dead and undeliverable events, the last
// to fail first, up to limit: one Query of its partition of the due index
// (per 1 MB page), eventually consistent.
func (b Box) Undelivered(ctx context.Context, recipient string, limit int) ([]Stored, error) {
	var out []Stored
	err := b.undelivered(ctx, recipient, types.SelectAllAttributes, func(p *dynamodb.QueryOutput) (bool, error) {
		for _, item := range p.Items {
			s, err := FromItem(item)
			if err != nil {
				return false, err
			}
			out = append(out, s)
			if len(out) == limit {
				return false, nil
			}
		}
		return true, nil
	})
	return out, err
}

// CountUndelivered counts recipient's dead and undeliverable events: a
// Query that returns no items (its read still counts every one).
func (b Box) CountUndelivered(ctx context.Context, recipient string) (int, error) {
	n := 0
	err := b.undelivered(ctx, recipient, types.SelectCount, func(p *dynamodb.QueryOutput) (bool, error) {
		n += int(p.Count)
		return true, nil
	})
	return n, err
}

func (b Box) undelivered(ctx context.Context, recipient string, sel types.Select, each func(*dynamodb.QueryOutput) (bool, error)) error {
	e := dynamo.Build(expression.NewBuilder().WithKeyCondition(expression.Key(attrDuePK).Equal(expression.Value(deadPK(recipient)))))
	p := dynamodb.NewQueryPaginator(b.DB, &dynamodb.QueryInput{TableName: aws.String(b.Table), IndexName: aws.String(IndexDue),
		KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ScanIndexForward: aws.Bool(false), Select: sel})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("outbox: failed events of %s: %w", recipient, err)
		}
		more, err := each(page)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// Sequence lists the events of ordering key key, oldest first (the index
// "ordered": every event of an order, whatever its state; eventually
// consistent).
func (b Box) Sequence(ctx context.Context, key string) ([]Stored, error) {
	e := dynamo.Build(expression.NewBuilder().WithKeyCondition(expression.Key(attrOrderKey).Equal(expression.Value(key))))
	p := dynamodb.NewQueryPaginator(b.DB, &dynamodb.QueryInput{TableName: aws.String(b.Table), IndexName: aws.String(IndexOrdered),
		KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()})
	var out []Stored
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("outbox: events of ordering key %q: %w", key, err)
		}
		for _, item := range page.Items {
			s, err := FromItem(item)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}
