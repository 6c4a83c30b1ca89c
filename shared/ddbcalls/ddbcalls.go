// Package ddbcalls counts the DynamoDB calls made on behalf of one request.
// A Counter travels in the request's context (httpx.Observe puts one there
// and logs its total as "dynamodbCalls"); the DynamoDB client's middleware
// (store.NewClient) adds every attempt it sends, retries included, by
// operation. It holds only the counter, so packages without AWS imports can
// use it.
package ddbcalls

import (
	"context"
	"strings"
	"sync"
)

// Counter records the DynamoDB calls of one request. It is safe for
// concurrent use, and a nil *Counter ignores Add and reports nothing.
type Counter struct {
	mu  sync.Mutex
	ops []string // operation names, in the order the calls were sent
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

// Add records one call (one attempt) of operation op.
func (c *Counter) Add(op string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.ops = append(c.ops, op)
	c.mu.Unlock()
}

// Total is the number of calls recorded.
func (c *Counter) Total() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ops)
}

// Calls returns the operations recorded, in order.
func (c *Counter) Calls() []string {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.ops...)
}

// String lists the calls in order, "TransactWriteItems+GetItem"; "-" when
// there were none.
func (c *Counter) String() string {
	calls := c.Calls()
	if len(calls) == 0 {
		return "-"
	}
	return strings.Join(calls, "+")
}
