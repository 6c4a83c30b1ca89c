package ddbcalls

import (
	"context"
	"sync"
	"testing"
)

func TestCounter(t *testing.T) {
	var none *Counter
	none.Add() // a request without a counter: ignored, no panic
	if none.Total() != 0 || FromContext(context.Background()) != nil {
		t.Fatal("a missing counter must count nothing")
	}
	c := &Counter{}
	ctx := WithCounter(context.Background(), c)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { FromContext(ctx).Add() })
	}
	wg.Wait()
	if c.Total() != 50 {
		t.Fatalf("Total = %d after 50 concurrent calls", c.Total())
	}
}
