package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/outbox"
	"github.com/tollgate-dev/tollgate/shared/store"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// Dead events of a store are listed, replayed (one, then all), and due
// again; another store's are left alone.
func TestListAndReplay(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{})
			box := outbox.Box{DB: e.Stack.DB, Table: e.Tables.Outbox}
			ctx := context.Background()
			at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			for _, ev := range []struct{ id, slug string }{{"a1", "s1"}, {"a2", "s1"}, {"b1", "s2"}} {
				op, err := outbox.EnqueueOp(box.Table, outbox.Event{ID: ev.id, Recipient: store.Tuple("store", ev.slug), Type: "t", Payload: json.RawMessage(`{}`), At: at})
				if err != nil {
					t.Fatal(err)
				}
				if err := (store.Store{DB: e.Stack.DB}).Transact(ctx, []types.TransactWriteItem{op}); err != nil {
					t.Fatal(err)
				}
				if err := box.MarkDead(ctx, ev.id); err != nil {
					t.Fatal(err)
				}
			}
			cmd := func(args ...string) string {
				var out, errOut bytes.Buffer
				if err := command(ctx, box, at.Add(time.Hour), args[0], args[1:], &out, &errOut); err != nil {
					t.Fatalf("%v: %v %s", args, err, errOut.String())
				}
				return out.String()
			}
			if out := cmd("list", "-store", "s1", "-status", "dead"); strings.Count(out, "\n") != 2 || !strings.Contains(out, "a1\t") {
				t.Fatalf("list: %q", out)
			}
			cmd("replay", "-id", "a1")
			if out := cmd("replay-dead", "-store", "s1"); !strings.Contains(out, "1 dead events") {
				t.Fatalf("replay-dead: %q", out)
			}
			due, err := box.Due(ctx, at.Add(time.Hour), 10)
			if err != nil || len(due) != 2 {
				t.Fatalf("due after replay: %+v %v", due, err)
			}
			if out := cmd("list", "-status", "dead"); !strings.HasPrefix(out, "b1\t") || strings.Count(out, "\n") != 1 {
				t.Fatalf("dead left: %q", out)
			}
			var errOut bytes.Buffer
			if err := command(ctx, box, at, "replay", []string{"-id", "nope"}, &bytes.Buffer{}, &errOut); err == nil {
				t.Error("replay of an unknown event succeeded")
			}
		})
	}
}
