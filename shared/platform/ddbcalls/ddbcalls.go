// Package ddbcalls counts the DynamoDB calls made on behalf of one request.
// A Counter travels in the request's context (httpx.Observe puts one there
// and logs its total as "dynamodbCalls"); the DynamoDB client's middleware
// (dynamo.NewClient) adds every attempt it sends, retries included. It holds
// only the counter, so packages without AWS imports can use it.
package ddbcalls

import (
	"context"
	"sync/atomic"
)

// Counter counts the DynamoDB calls of one request. It is safe for
// concurrent use, and a nil *Counter ignores Add and reports nothing.
type Counter struct {
	n atomic.Int64
}

type counterKey struct{}

// WithCounter returns ctx carrying c.
func WithCounter(ctx context.Context, c *Counter) context.Context {
	return context.WithValue(ctx, counterKey{}, c)
}

// FromContext returns the counter ctx carries, or nil.
func FromContext(ctx context.Context) *Counter {
	c, _ := ctx.Value(counterKey{}).(*Counter)
	return c
}

// Add counts one call (one attempt).
func (c *Counter) Add() {
	if c != nil {
		c.n.Add(1)
	}
}

// Total is the number of calls counted.
func (c *Counter) Total() int {
	if c == nil {
		return 0
	}
	return int(c.n.Load())
}
