package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
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
			for _, ev := range []struct{ id, slug, kind string }{{"a1", "s1", "store"}, {"a2", "s1", "store"}, {"b1", "s2", "store"}, {"m1", "s1", "email"}} {
				op, err := outbox.EnqueueOp(box.Table, outbox.Event{ID: ev.id, Recipient: dynamo.Tuple(ev.kind, ev.slug), Type: "t", Payload: json.RawMessage(`{}`), At: at})
				if err != nil {
					t.Fatal(err)
				}
				if err := (dynamo.Store{DB: e.Stack.DB}).Transact(ctx, []types.TransactWriteItem{op}); err != nil {
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
			if out := cmd("list", "-emails", "s1"); !strings.HasPrefix(out, "m1\t") || strings.Count(out, "\n") != 1 {
				t.Fatalf("list -emails: %q", out)
			}
			if out := cmd("replay-dead", "-emails", "s1"); !strings.Contains(out, "1 dead events") {
				t.Fatalf("replay-dead -emails: %q", out)
			}
			cmd("replay", "-id", "a1")
			if out := cmd("replay-dead", "-store", "s1"); !strings.Contains(out, "1 dead events") {
				t.Fatalf("replay-dead: %q", out)
			}
			due, err := box.Due(ctx, at.Add(time.Hour), 10)
			if err != nil || len(due) != 3 {
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

// A store's endpoint down past the three-day retry window: its events end
// dead (each after its own window, none sent out of order); once it is
// back, replay-dead makes them due and the dispatcher delivers every one,
// once, in order.
func TestDeadPastWindowThenReplayDelivers(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{})
			box := outbox.Box{DB: e.Stack.DB, Table: e.Tables.Outbox}
			ctx := context.Background()
			now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			var mu sync.Mutex
			down := true
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				defer mu.Unlock()
				if down {
					http.Error(w, "down", http.StatusServiceUnavailable)
					return
				}
				if r.Header.Get(delivery.DefaultSignatureHeader) != delivery.Sign("whsec_replay", body) {
					t.Error("bad signature")
				}
				got = append(got, r.Header.Get(delivery.HeaderEventID))
			}))
			defer srv.Close()
			d := &delivery.Dispatcher{Box: box, Now: func() time.Time { return now },
				Resolver: delivery.ResolverFunc(func(context.Context, string) (delivery.Target, error) {
					return delivery.Target{URL: srv.URL, Secret: "whsec_replay"}, nil
				})}
			var ids []string
			for i, typ := range []string{"created", "fulfilled", "refunded"} {
				id := "store:s1:order:ORD-1:" + typ
				op, err := outbox.EnqueueOp(box.Table, outbox.Event{ID: id, Recipient: dynamo.Tuple("store", "s1"), Type: "order." + typ,
					Payload: json.RawMessage(`{}`), At: now.Add(time.Duration(i) * time.Hour), OrderingKey: dynamo.Tuple("store", "s1", "order", "ORD-1")})
				if err != nil {
					t.Fatal(err)
				}
				if err := (dynamo.Store{DB: e.Stack.DB}).Transact(ctx, []types.TransactWriteItem{op}); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			var total delivery.Stats
			for range 4 * 24 * 4 { // four days, every 15 minutes
				st, err := d.Run(ctx, 50)
				if err != nil {
					t.Fatal(err)
				}
				total.Failed, total.Dead, total.Deferred = total.Failed+st.Failed, total.Dead+st.Dead, total.Deferred+st.Deferred
				now = now.Add(15 * time.Minute)
			}
			t.Logf("four days down: %+v", total)
			for _, id := range ids {
				if s, _, _ := box.Get(ctx, id); s.Status != outbox.StatusDead {
					t.Fatalf("%s is %s after four days down, want dead", id, s.Status)
				}
			}
			mu.Lock()
			down = false
			mu.Unlock()
			var out, errOut bytes.Buffer
			if err := command(ctx, box, now, "replay-dead", []string{"-store", "s1"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "3 dead events") {
				t.Fatalf("replay-dead: %v %q %s", err, out.String(), errOut.String())
			}
			if st, err := d.Run(ctx, 50); err != nil || st.Delivered != 3 {
				t.Fatalf("run after replay: %+v %v", st, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(ids) {
				t.Fatalf("received %v, want %v", got, ids)
			}
		})
	}
}
