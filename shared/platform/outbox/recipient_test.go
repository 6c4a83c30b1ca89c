package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

// A recipient's events newest first, page by page (RecipientShards calls a
// page from one day), none of another recipient's; its dead and
// undeliverable events listed and counted from their partition of the due
// index, which Due never returns; a replay conditional on the recipient
// puts one back among the due.
func TestRecipientEvents(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{})
			st := dynamo.Store{DB: e.Stack.DB, Tables: e.Tables}
			box := outbox.Box{DB: e.Stack.DB, Table: e.Tables.Outbox}
			ctx := context.Background()
			at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			a, other := dynamo.Tuple("store", "a"), dynamo.Tuple("store", "b")
			var want []string // newest first
			for i := range 30 {
				id := fmt.Sprintf("store:a:order:ORD-%02d:created", i)
				want = append([]string{id}, want...)
				enqueue(t, st, outbox.Event{ID: id, Recipient: a, Type: "order.created", Payload: json.RawMessage(`{}`),
					At: at.Add(-time.Duration(30-i) * time.Minute), OrderingKey: dynamo.Tuple("store", "a", "order", fmt.Sprintf("ORD-%02d", i))})
			}
			enqueue(t, st, outbox.Event{ID: "store:b:x", Recipient: other, Type: "order.created", Payload: json.RawMessage(`{}`), At: at.Add(-time.Minute)})

			var got []string
			cursor := ""
			for page := 0; page < 5; page++ {
				cc := &ddbcalls.Counter{}
				p, err := box.Recent(ddbcalls.WithCounter(ctx, cc), a, cursor, 20, 2, at)
				if err != nil {
					t.Fatal(err)
				}
				if page == 0 && cc.Total() != outbox.RecipientShards {
					t.Fatalf("a page of 20 from one day: %d calls, want %d", cc.Total(), outbox.RecipientShards)
				}
				for _, ev := range p.Events {
					got = append(got, ev.ID)
				}
				if cursor = p.Cursor; cursor == "" {
					break
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("recent %v\nwant %v", got, want)
			}

			// Two die (one refused, one out of retries), one has no target.
			for i, fate := range []string{"dead", "failed", "undeliverable"} {
				c, ok, err := box.Claim(ctx, want[i], at, time.Minute)
				if err != nil || !ok {
					t.Fatalf("claim %s: %v %v", want[i], ok, err)
				}
				switch fate {
				case "dead":
					_, err = box.Dead(ctx, c, at, "refused")
				case "failed":
					_, err = box.Failed(ctx, c, at.Add(100*time.Hour), "500", outbox.DefaultPolicy)
				default:
					_, err = box.Undeliverable(ctx, c, at, "no URL")
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			n, err := box.CountUndelivered(ctx, a)
			if err != nil || n != 3 {
				t.Fatalf("count %d, %v; want 3", n, err)
			}
			failed, err := box.Undelivered(ctx, a, 10)
			if err != nil || len(failed) != 3 || !failed[0].DueAt.IsZero() {
				t.Fatalf("undelivered %+v, %v", failed, err)
			}
			if n, _ := box.CountUndelivered(ctx, other); n != 0 {
				t.Fatalf("the other recipient counts %d", n)
			}
			due, err := box.Due(ctx, at.Add(200*time.Hour), 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range due {
				if ev.Status != outbox.StatusPending {
					t.Fatalf("Due returned %s in %s", ev.ID, ev.Status)
				}
			}
			var cond *dynamo.ConditionFailedError
			if err := st.Transact(ctx, []types.TransactWriteItem{outbox.ReplayOp(e.Tables.Outbox, want[0], other, at)}); !errors.As(err, &cond) {
				t.Fatalf("replay as another recipient: %v", err)
			}
			if err := st.Transact(ctx, []types.TransactWriteItem{outbox.ReplayOp(e.Tables.Outbox, want[0], a, at)}); err != nil {
				t.Fatal(err)
			}
			if n, _ := box.CountUndelivered(ctx, a); n != 2 {
				t.Fatalf("after a replay: %d undelivered, want 2", n)
			}
			if ev, _, _ := box.Get(ctx, want[0]); ev.Status != outbox.StatusPending || !ev.DueAt.Equal(at) {
				t.Fatalf("replayed: %+v", ev)
			}
			seq, err := box.Sequence(ctx, dynamo.Tuple("store", "a", "order", "ORD-05"))
			if err != nil || len(seq) != 1 || seq[0].ID != "store:a:order:ORD-05:created" {
				t.Fatalf("sequence %+v, %v", seq, err)
			}
		})
	}
}

func enqueue(t *testing.T, st dynamo.Store, ev outbox.Event) {
	t.Helper()
	op, err := outbox.EnqueueOp(st.Tables.Outbox, ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Transact(context.Background(), []types.TransactWriteItem{op}); err != nil {
		t.Fatal(err)
	}
}
