package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

// load writes n pending events of recipient, due at at, each with an
// ordering key of its own (as a payment's: its transaction), straight into
// the outbox table, 25 per BatchWriteItem.
func (f *fixture) load(t testing.TB, recipient string, n int, at time.Time) {
	t.Helper()
	ctx := context.Background()
	var batch []types.WriteRequest
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := f.env.Stack.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{f.box.Table: batch}}); err != nil {
			t.Fatal(err)
		}
		batch = nil
	}
	for i := range n {
		op, err := outbox.EnqueueOp(f.box.Table, outbox.Event{ID: fmt.Sprintf("backlog:%s:%06d", recipient, i), Recipient: recipient,
			Type: "payment.succeeded", Payload: json.RawMessage(fmt.Sprintf(`{"event":"payment.succeeded","n":%d}`, i)), At: at,
			OrderingKey: fmt.Sprintf("tx-%s-%06d", recipient, i)})
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: op.Put.Item}})
		if len(batch) == 25 {
			flush()
		}
	}
	flush()
}

// An event whose recipient has no webhook target (no URL set) is recorded
// undeliverable at once, not retried: later runs do not touch it (one
// DynamoDB call, the due query). Replayed once the URL is set, it is
// delivered once.
func TestNoTargetIsUndeliverable(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := setup(t, b, 0)
			url := ""
			srv := httptest.NewServer(f.recv)
			defer srv.Close()
			f.d.Resolver = delivery.ResolverFunc(func(context.Context, string) (delivery.Target, error) {
				return delivery.Target{URL: url, Secret: secret}, nil
			})
			ids := f.enqueue(t, 2)
			ctx := context.Background()
			if _, err := f.d.Run(ctx, 10); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if s := f.status(t, id); s.Status != "undeliverable" || s.LastError == "" || !s.DueAt.IsZero() {
					t.Fatalf("%s: %+v, want undeliverable, out of the due index", id, s)
				}
			}
			for range 3 {
				f.clock.Add(time.Hour)
				f.env.Transport.Reset()
				if st, err := f.d.Run(ctx, 10); err != nil || st != (delivery.Stats{}) {
					t.Fatalf("a later run attempted: %+v %v", st, err)
				}
				if calls := f.env.Transport.Calls(); len(calls) != outbox.DueShards {
					t.Fatalf("a later run made %d DynamoDB calls %v, want the due query of each shard alone", len(calls), calls)
				}
			}
			url = srv.URL + "/hook"
			for _, id := range ids {
				if err := f.box.Replay(ctx, id, f.clock.Now()); err != nil {
					t.Fatal(err)
				}
			}
			if st, err := f.d.Run(ctx, 10); err != nil || st.Delivered != 2 {
				t.Fatalf("after replay: %+v %v", st, err)
			}
			for _, id := range ids {
				if n := f.recv.count(id); n != 1 {
					t.Errorf("%s received %d times", id, n)
				}
			}
		})
	}
}

// backlogs are the pending backlogs the dispatcher's cost is measured at:
// 6,000, and 60,000 with DISPATCH_BACKLOG_60K=1 (some 12 minutes on two
// cores: loading 60,000 items into the embedded DynamoDB, whose sorted key
// lists make a load quadratic, takes 6).
func backlogs() []int {
	if os.Getenv("DISPATCH_BACKLOG_60K") == "1" {
		return []int{6000, 60000}
	}
	return []int{6000}
}

// A backlog of pending events costs the dispatcher the same DynamoDB calls
// per run whatever its size: a run of 50 events with no target is the due
// query and four calls per event (claim, blocker query, undeliverable,
// next-in-order query); an idle run (nothing due) is the due query alone;
// 50 deliveries to a fast receiver are the same 1 + 4 × 50. The wall times
// are logged (BENCHMARKS.md, "Dispatcher backlog"); nothing is timed.
func TestBacklogCostFlat(t *testing.T) {
	var perRun []int
	for _, n := range backlogs() {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := setup(t, ddbtest.Backend{Name: "minidyn"}, 0)
			ctx := context.Background()
			start := time.Now()
			// n pending events: half due now, of a merchant without a URL
			// (make run's demo merchant), half not due for an hour (backing off).
			f.load(t, dynamo.Tuple("merchant", "m_nourl"), n/2, f.clock.Now())
			f.load(t, dynamo.Tuple("merchant", "m_fast"), n/2, f.clock.Now().Add(time.Hour))
			t.Logf("loaded %d pending events in %v", n, time.Since(start).Round(time.Millisecond))
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer srv.Close()
			f.d.Resolver = delivery.ResolverFunc(func(_ context.Context, r string) (delivery.Target, error) {
				if r == dynamo.Tuple("merchant", "m_fast") {
					return delivery.Target{URL: srv.URL, Secret: secret}, nil
				}
				return delivery.Target{}, nil
			})
			run := func(what string, want int) {
				t.Helper()
				f.env.Transport.Reset()
				start := time.Now()
				st, err := f.d.Run(ctx, 50)
				el := time.Since(start)
				calls := len(f.env.Transport.Calls())
				t.Logf("%s: %+v in %v (%v per event), %d DynamoDB calls", what, st, el.Round(time.Millisecond),
					(el / time.Duration(max(1, st.Undeliverable+st.Delivered))).Round(time.Microsecond), calls)
				if err != nil || calls != want {
					t.Fatalf("%s: %v, %d calls, want %d", what, err, calls, want)
				}
			}
			for i := range 3 {
				run(fmt.Sprint("no-target run ", i+1), outbox.DueShards+4*50)
			}
			perRun = append(perRun, len(f.env.Transport.Calls()))
			// Past the no-target events (undeliverable, out of the index).
			for {
				st, err := f.d.Run(ctx, 50)
				if err != nil {
					t.Fatal(err)
				}
				if st.Undeliverable == 0 {
					break
				}
			}
			run("idle run", outbox.DueShards)
			f.clock.Add(time.Hour)
			start = time.Now()
			delivered := 0
			for range 10 {
				f.env.Transport.Reset()
				st, err := f.d.Run(ctx, 50)
				if calls := len(f.env.Transport.Calls()); err != nil || st.Delivered != 50 || calls != outbox.DueShards+4*50 {
					t.Fatalf("fast receiver run: %+v %v, %d calls", st, err, calls)
				}
				delivered += st.Delivered
			}
			el := time.Since(start)
			t.Logf("fast receiver: %d delivered in %v: %.0f events/s", delivered, el.Round(time.Millisecond), float64(delivered)/el.Seconds())
		})
	}
}
