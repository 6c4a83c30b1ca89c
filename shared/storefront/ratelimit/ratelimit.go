// Package ratelimit owns the RateLimitTable: one counter item per subject
// (an API key's id, a client IP) and fixed window, shared by every Lambda
// instance, removed by TTL once the window is over. A request is counted
// by one UpdateItem (Hit) or, where the request's own transaction can carry
// it, by a conditional counter update in that transaction (CountOp).
//
// Item layout: pk = dynamo.Tuple("rl", policy, subject, windowStart unix
// seconds); count (N); expiresAt (N, epoch seconds: the window's end plus a
// minute, for DynamoDB's TTL).
package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

const (
	attrCount = "count"
	// ttlSlack keeps a counter a minute past its window, so an instance
	// whose clock is slightly behind still finds it.
	ttlSlack = time.Minute
)

// Policy is a limit: at most Limit requests per Window for one subject.
// Name appears in the RateLimit-Policy header and the counter's key.
type Policy struct {
	Name   string
	Limit  int
	Window time.Duration
}

// EnvWindow is the window of every policy (a Go duration, default 1m).
const EnvWindow = "RATE_LIMIT_WINDOW"

// Settings reads a deployment's settings (deps.Deps).
type Settings interface {
	PositiveInt(name string, def int) (int, error)
	Duration(name string, def time.Duration) (time.Duration, error)
}

// Configured is policy name with its limit from the setting envLimit
// (default defLimit) and the window from EnvWindow.
func Configured(s Settings, name, envLimit string, defLimit int) (Policy, error) {
	limit, err := s.PositiveInt(envLimit, defLimit)
	if err != nil {
		return Policy{}, err
	}
	window, err := s.Duration(EnvWindow, time.Minute)
	if err != nil {
		return Policy{}, err
	}
	return Policy{Name: name, Limit: limit, Window: window}, nil
}

// Result is a subject's count in the current window after a request.
type Result struct {
	Policy Policy
	Count  int       // requests counted in this window, this one included
	Reset  time.Time // when the window ends
	// Allowed is false when this request is over the limit.
	Allowed bool
}

// Remaining is how many more requests the window allows.
func (r Result) Remaining() int { return max(0, r.Policy.Limit-r.Count) }

// window returns the start and end of the window holding now.
func (p Policy) window(now time.Time) (time.Time, time.Time) {
	start := now.Truncate(p.Window)
	return start, start.Add(p.Window)
}

// Key is the primary key of subject's counter for the window holding now.
func (p Policy) Key(subject string, now time.Time) dynamo.Key {
	start, _ := p.window(now)
	return dynamo.PK(dynamo.Tuple("rl", p.Name, subject, strconv.FormatInt(start.Unix(), 10)))
}

func (p Policy) counted(now time.Time) expression.UpdateBuilder {
	_, end := p.window(now)
	return expression.Add(expression.Name(attrCount), expression.Value(1)).
		Set(expression.Name(dynamo.AttrExpiresAt), expression.Value(end.Add(ttlSlack).Unix()))
}

// Limiter counts requests against the RateLimitTable.
type Limiter struct {
	DB    *dynamodb.Client
	Table string
}

// Hit counts one request of subject under p (one UpdateItem, whatever the
// count) and reports whether it is within the limit. An error means the
// counter could not be updated; callers serve the request anyway (fail
// open) and log it.
func (l Limiter) Hit(ctx context.Context, p Policy, subject string, now time.Time) (Result, error) {
	e := dynamo.Build(expression.NewBuilder().WithUpdate(p.counted(now)))
	out, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(l.Table),
		Key:                       p.Key(subject, now),
		UpdateExpression:          e.Update(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return Result{}, fmt.Errorf("rate limit %s: %w", p.Name, err)
	}
	return p.FromItem(out.Attributes, now, false), nil
}

// CountOp is the transaction item counting one request of subject, which
// fails its condition when the window's limit is already reached: a
// transaction that carries it commits only within the limit. Its failure
// returns the counter (ALL_OLD) for FromItem.
func (p Policy) CountOp(table, subject string, now time.Time) types.TransactWriteItem {
	cond := expression.AttributeNotExists(expression.Name(attrCount)).
		Or(expression.Name(attrCount).LessThan(expression.Value(p.Limit)))
	return dynamo.UpdateOp(table, p.Key(subject, now), p.counted(now), dynamo.Cond(cond))
}

// FromItem reads a counter item (nil: none yet) as the Result of a request
// in the window holding now. refused says the request was refused for the
// limit and not counted (a failed CountOp): it is then the one over.
func (p Policy) FromItem(item map[string]types.AttributeValue, now time.Time, refused bool) Result {
	_, end := p.window(now)
	n, err := dynamo.IntAttr(item[attrCount])
	if err != nil {
		n = 0
	}
	count := int(n)
	if refused {
		count = max(count, p.Limit) + 1
	}
	return Result{Policy: p, Count: count, Reset: end, Allowed: count <= p.Limit}
}
