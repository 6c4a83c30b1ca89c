package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// An event is enqueued once: the same id again fails its condition and the
// whole transaction with it; the stored event reads back as written and is
// in the due index.
func TestEnqueueOnce(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{})
			st := dynamo.Store{DB: e.Stack.DB, Tables: e.Tables}
			ctx := context.Background()
			at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			ev := outbox.Event{ID: "store:s1:order:ORD-1:fulfilled", Recipient: dynamo.Tuple("store", "s1"), Type: "order.fulfilled",
				Payload: json.RawMessage(`{"order_id":"ORD-1"}`), At: at}
			op, err := outbox.EnqueueOp(e.Tables.Outbox, ev)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Transact(ctx, []types.TransactWriteItem{op}); err != nil {
				t.Fatal(err)
			}
			var failed *dynamo.ConditionFailedError
			if err := st.Transact(ctx, []types.TransactWriteItem{op}); !errors.As(err, &failed) || !failed.Failed(0) {
				t.Fatalf("second enqueue: %v, want its condition failed", err)
			}
			out, err := e.Stack.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.Tables.Outbox), Key: dynamo.PK(outbox.Key(ev.ID)), ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := outbox.FromItem(out.Item)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != ev.ID || got.Recipient != ev.Recipient || got.Type != ev.Type || string(got.Payload) != string(ev.Payload) ||
				!got.At.Equal(at) || got.Status != outbox.StatusPending || got.Attempts != 0 {
				t.Errorf("stored %+v, want %+v pending", got, ev)
			}
			// In the due index, found as the dispatcher finds it (its partition is the event's own).
			due, err := outbox.Box{DB: e.Stack.DB, Table: e.Tables.Outbox}.Due(ctx, at.Add(time.Minute), 10)
			if err != nil || len(due) != 1 || due[0].ID != ev.ID {
				t.Fatalf("due index: %d items, %v", len(due), err)
			}
		})
	}
}

func TestEnqueueRefusesIncompleteEvents(t *testing.T) {
	ok := outbox.Event{ID: "x", Recipient: "r", Type: "t", Payload: json.RawMessage(`{}`), At: time.Unix(1, 0)}
	for name, mutate := range map[string]func(*outbox.Event){
		"no id": func(e *outbox.Event) { e.ID = "" }, "no recipient": func(e *outbox.Event) { e.Recipient = "" },
		"no type": func(e *outbox.Event) { e.Type = "" }, "payload not JSON": func(e *outbox.Event) { e.Payload = json.RawMessage(`{`) },
		"no time": func(e *outbox.Event) { e.At = time.Time{} }, "before 1970": func(e *outbox.Event) { e.At = time.Unix(-1, 0) },
	} {
		e := ok
		mutate(&e)
		if _, err := outbox.EnqueueOp("T", e); !errors.Is(err, outbox.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := outbox.EnqueueOp("T", ok); err != nil {
		t.Error(err)
	}
}

// An event's ordering key is stored with it and read back; a stream
// record's key names the event.
func TestOrderingKeyAndIDOfKey(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{})
			ctx := context.Background()
			box := outbox.Box{DB: e.Stack.DB, Table: e.Tables.Outbox}
			at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			var tx []types.TransactWriteItem
			for _, id := range []string{"b", "a-longer-id"} { // same time: ordered by id
				op, err := outbox.EnqueueOp(box.Table, outbox.Event{ID: id, Recipient: "r", Type: "t", Payload: json.RawMessage(`{}`), At: at, OrderingKey: "k"})
				if err != nil {
					t.Fatal(err)
				}
				tx = append(tx, op)
			}
			if err := (dynamo.Store{DB: e.Stack.DB}).Transact(ctx, tx); err != nil {
				t.Fatal(err)
			}
			a, ok, err := box.Get(ctx, "a-longer-id")
			if err != nil || !ok || a.OrderingKey != "k" || !a.DueAt.Equal(at) {
				t.Fatalf("a: %+v %v %v", a, ok, err)
			}
			if next, ok, err := box.NextInOrder(ctx, a); err != nil || !ok || next.ID != "b" {
				t.Fatalf("next after a: %+v %v %v", next, ok, err)
			}
			b, _, _ := box.Get(ctx, "b")
			if blocker, ok, err := box.Blocker(ctx, b); err != nil || !ok || blocker.ID != "a-longer-id" {
				t.Fatalf("blocker of b: %+v %v %v", blocker, ok, err)
			}
			if err := box.MarkDead(ctx, "a-longer-id"); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := box.Blocker(ctx, b); err != nil || ok {
				t.Fatalf("a dead event still blocks: %v %v", ok, err)
			}
			if id, ok := outbox.IDOfKey(outbox.Key("a")); !ok || id != "a" {
				t.Errorf("IDOfKey = %q %v", id, ok)
			}
			for _, k := range []string{"", "a", dynamo.Tuple("store", "a"), dynamo.Tuple("event")} {
				if id, ok := outbox.IDOfKey(k); ok {
					t.Errorf("IDOfKey(%q) = %q, want none", k, id)
				}
			}
		})
	}
}
