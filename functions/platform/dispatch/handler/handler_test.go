package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/logtest"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// The deployed job, built from the template's settings, delivers a store's
// due event to the store's URL signed with its secret, once.
func TestDispatchJobDelivers(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			var mu sync.Mutex
			got := map[string]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.Header.Get(delivery.DefaultSignatureHeader) != delivery.Sign("whsec_job", body) {
					t.Error("bad signature")
				}
				mu.Lock()
				got[r.Header.Get(delivery.HeaderEventID)]++
				mu.Unlock()
			}))
			defer srv.Close()
			file := fmt.Sprintf(`{"stores": [{"slug": "s1", "name": "S1", "apiKeys": ["sk_test_dispatch_1"], "webhookUrl": %q, "webhookSecret": "whsec_job", "products": []}]}`, srv.URL)
			now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{Stores: []byte(file), Now: func() time.Time { return now }})
			ctx := context.Background()
			enqueue(t, e, outbox.Event{ID: "ev-1", Recipient: dynamo.Tuple("store", "s1"), Type: "order.fulfilled",
				Payload: json.RawMessage(`{"event":"order.fulfilled"}`), At: now})
			job, err := e.Stack.Job("DispatchFunction", functions.Jobs)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := job(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got["ev-1"] != 1 {
				t.Fatalf("received %v, want ev-1 once", got)
			}
		})
	}
}

// The stream path: a batch naming a new event sends it at once, signed
// with the store's own header name; the same batch again (Lambda's retry)
// sends nothing twice; a record that is no event is ignored.
func TestDispatchStreamDelivers(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			var mu sync.Mutex
			got := map[string]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if r.Header.Get("X-AnonymousPay-Signature") != delivery.Sign("whsec_job", body) {
					t.Error("bad signature")
				}
				mu.Lock()
				got[r.Header.Get(delivery.HeaderEventID)]++
				mu.Unlock()
			}))
			defer srv.Close()
			file := fmt.Sprintf(`{"stores": [{"slug": "s1", "name": "S1", "apiKeys": ["sk_test_dispatch_1"], "webhookUrl": %q, "webhookSecret": "whsec_job",
				"webhookSignatureHeader": "X-AnonymousPay-Signature", "products": []}]}`, srv.URL)
			now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{Stores: []byte(file), Now: func() time.Time { return now }})
			ctx := context.Background()
			enqueue(t, e, outbox.Event{ID: "ev-s", Recipient: dynamo.Tuple("store", "s1"), Type: "order.created",
				Payload: json.RawMessage(`{"event":"order.created"}`), At: now, OrderingKey: dynamo.Tuple("store", "s1", "order", "O-1")})
			batch := fmt.Sprintf(`{"Records": [
				{"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"pk": {"S": %q}}}},
				{"eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"Keys": {"pk": {"S": "not-an-event"}}}}]}`, outbox.Key("ev-s"))
			if !lambdarun.IsStreamEvent([]byte(batch)) {
				t.Fatal("not recognised as a stream event")
			}
			for range 2 {
				if err := e.Stack.InvokeStream(ctx, "DispatchFunction", functions.Streams, []byte(batch)); err != nil {
					t.Fatal(err)
				}
			}
			if got["ev-s"] != 1 {
				t.Fatalf("received %v, want ev-s once", got)
			}
		})
	}
}

// A scheduled run that delivers says so at Info; one that finds nothing
// due writes nothing at Info (the local runner's terminal stays quiet).
func TestDispatchIdleRunQuiet(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer srv.Close()
			file := fmt.Sprintf(`{"stores": [{"slug": "s1", "name": "S1", "apiKeys": ["sk_test_dispatch_1"], "webhookUrl": %q, "webhookSecret": "whsec_job", "products": []}]}`, srv.URL)
			now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			logs := &logtest.Buffer{}
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{Stores: []byte(file), Now: func() time.Time { return now },
				Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
			ctx := context.Background()
			enqueue(t, e, outbox.Event{ID: "ev-q", Recipient: dynamo.Tuple("store", "s1"), Type: "order.fulfilled",
				Payload: json.RawMessage(`{"event":"order.fulfilled"}`), At: now})
			// Through the Lambda entry, as the schedule invokes it.
			event := []byte(`{"version": "0", "id": "tick", "detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}}`)
			logs.Take()
			for run, want := range []string{"dispatch run", ""} {
				if err := e.Stack.InvokeJob(ctx, "DispatchFunction", functions.Jobs, event); err != nil {
					t.Fatal(err)
				}
				lines := logs.TakeLines(t)
				if want == "" && len(lines) > 0 || want != "" && !hasMsg(lines, want) {
					t.Errorf("run %d logged %v at Info, want %q (nothing when idle)", run+1, lines, want)
				}
			}
		})
	}
}

func hasMsg(lines []map[string]any, msg string) bool {
	for _, l := range lines {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}

// enqueue writes ev to the outbox table of e.
func enqueue(t *testing.T, e *ddbtest.Env, ev outbox.Event) {
	t.Helper()
	op, err := outbox.EnqueueOp(e.Tables.Outbox, ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := (dynamo.Store{DB: e.Stack.DB}).Transact(context.Background(), []types.TransactWriteItem{op}); err != nil {
		t.Fatal(err)
	}
}
