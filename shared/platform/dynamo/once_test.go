package dynamo_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

func newStore(t *testing.T, b ddbtest.Backend) dynamo.Store {
	t.Helper()
	s := ddbtest.NewStack(t, b, ddbtest.StackOptions{})
	return dynamo.Store{DB: s.DB, Tables: dynamo.Tables{Players: s.TableName("PlayersTable"), Transactions: s.TableName("TransactionsTable")}}
}

func record(key, fp string) dynamo.Record {
	return dynamo.Record{
		Key: key, Fingerprint: fp, Response: []byte(`{"ok":true}`),
		CreatedAt: time.Unix(1700000000, 0), ExpiresAt: time.Unix(1800000000, 0),
		Attributes: map[string]types.AttributeValue{"playerId": &types.AttributeValueMemberS{Value: "p1"}},
	}
}

func TestApplyOnce(t *testing.T) {
	ctx := context.Background()
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newStore(t, b)
			grant := players.GrantOps(s.Tables.Players, "p1", []players.Item{{ProductID: "gem", Quantity: 2}}, time.Now())

			steps := []struct {
				fp   string
				want dynamo.Outcome
			}{
				{"fp-a", dynamo.Applied},
				{"fp-a", dynamo.Replayed},
				{"fp-b", dynamo.Conflict},
				{"fp-a", dynamo.Replayed},
			}
			for i, st := range steps {
				got, stored, err := s.ApplyOnce(ctx, record("k1", st.fp), grant)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if got != st.want {
					t.Fatalf("step %d: outcome %v, want %v", i, got, st.want)
				}
				if stored.Fingerprint != "fp-a" || string(stored.Response) != `{"ok":true}` {
					t.Fatalf("step %d: stored record %+v", i, stored)
				}
			}
			items, _, err := players.Holdings(ctx, s.DB, s.Tables.Players, "p1")
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 || items[0].Quantity != 2 {
				t.Fatalf("granted %v, want gem x2 once", items)
			}
			rec, err := s.Get(ctx, "k1")
			if err != nil {
				t.Fatal(err)
			}
			if !rec.ExpiresAt.Equal(time.Unix(1800000000, 0)) || !rec.CreatedAt.Equal(time.Unix(1700000000, 0)) {
				t.Fatalf("times not kept: %+v", rec)
			}
			if v, ok := rec.Attributes["playerId"].(*types.AttributeValueMemberS); !ok || v.Value != "p1" {
				t.Fatalf("attributes not kept: %+v", rec.Attributes)
			}
		})
	}
}

// When an effect's condition fails, nothing is written: not the record, not
// the other effects.
func TestApplyOnceEffectFailed(t *testing.T) {
	ctx := context.Background()
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newStore(t, b)
			effects := players.GrantOps(s.Tables.Players, "p2", []players.Item{{ProductID: "gem", Quantity: 1}}, time.Now())
			effects = append(effects, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName:           aws.String(s.Tables.Players),
				Key:                 map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "nobody"}, "sk": &types.AttributeValueMemberS{Value: "x"}},
				ConditionExpression: aws.String("attribute_exists(pk)"),
			}})
			_, _, err := s.ApplyOnce(ctx, record("k2", "fp"), effects)
			var failed *dynamo.EffectFailedError
			if !errors.As(err, &failed) || len(failed.Indexes) != 1 || failed.Indexes[0] != 1 {
				t.Fatalf("err = %v, want EffectFailedError{[1]}", err)
			}
			if _, err := s.Get(ctx, "k2"); !errors.Is(err, dynamo.ErrNotFound) {
				t.Fatalf("record written despite the failed effect: %v", err)
			}
			items, _, _ := players.Holdings(ctx, s.DB, s.Tables.Players, "p2")
			if len(items) != 0 {
				t.Fatalf("effect applied despite the failed one: %v", items)
			}
		})
	}
}

// Many goroutines, one winner.
func TestApplyOnceConcurrent(t *testing.T) {
	ctx := context.Background()
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newStore(t, b)
			const n = 50
			outcomes := make([]dynamo.Outcome, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					grant := players.GrantOps(s.Tables.Players, "p3", []players.Item{{ProductID: "gem", Quantity: 1}}, time.Now())
					outcomes[i], _, errs[i] = s.ApplyOnce(ctx, record("k3", "fp"), grant)
				}()
			}
			wg.Wait()
			applied := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("goroutine %d: %v", i, errs[i])
				}
				if outcomes[i] == dynamo.Applied {
					applied++
				} else if outcomes[i] != dynamo.Replayed {
					t.Fatalf("goroutine %d: %v", i, outcomes[i])
				}
			}
			items, _, _ := players.Holdings(ctx, s.DB, s.Tables.Players, "p3")
			if applied != 1 || len(items) != 1 || items[0].Quantity != 1 {
				t.Fatalf("applied %d times, inventory %v; want once", applied, items)
			}
		})
	}
}

func TestTablesFromEnv(t *testing.T) {
	env := map[string]string{"PLAYERS_TABLE": "p", "TRANSACTIONS_TABLE": "t"}
	got, err := dynamo.TablesFromEnv(func(k string) string { return env[k] })
	if err != nil || got.Players != "p" || got.Transactions != "t" {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := dynamo.TablesFromEnv(func(string) string { return "" }); err == nil {
		t.Fatal("missing table names accepted")
	}
}

// ApplyOnce never reads the wall clock nor writes a record without a key: a
// record lacking either is refused before any call.
func TestApplyOnceRequiresKeyAndCreatedAt(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*dynamo.Record)
		wantMsg string
	}{
		{"no key", func(r *dynamo.Record) { r.Key = "" }, "apply once: the record has no key"},
		{"no CreatedAt", func(r *dynamo.Record) { r.CreatedAt = time.Time{} }, "apply once k9: the record has no CreatedAt (set it from the injected clock)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := record("k9", "fp")
			tt.edit(&rec)
			// A zero Store has no client: any DynamoDB call would panic.
			outcome, _, err := dynamo.Store{}.ApplyOnce(context.Background(), rec, nil)
			if err == nil || err.Error() != tt.wantMsg || outcome != 0 {
				t.Fatalf("ApplyOnce = %v, %v; want error %q", outcome, err, tt.wantMsg)
			}
		})
	}
}

func TestIntAttr(t *testing.T) {
	tests := []struct {
		name string
		v    types.AttributeValue
		want int64
		err  string // "": no error
	}{
		{"integer", &types.AttributeValueMemberN{Value: "15"}, 15, ""},
		{"negative", &types.AttributeValueMemberN{Value: "-3"}, -3, ""},
		{"trailing fraction", &types.AttributeValueMemberN{Value: "15.0"}, 15, ""},
		{"exponent", &types.AttributeValueMemberN{Value: "1.5E1"}, 15, ""},
		{"beyond float64 precision", &types.AttributeValueMemberN{Value: "9007199254740993.0"}, 9007199254740993, ""},
		{"fraction", &types.AttributeValueMemberN{Value: "1.5"}, 0, `"1.5" is not an integer`},
		{"out of range", &types.AttributeValueMemberN{Value: "1E30"}, 0, `"1E30" is out of the int64 range`},
		{"string attribute", &types.AttributeValueMemberS{Value: "15"}, 0, dynamo.ErrNotNumber.Error()},
		{"missing", nil, 0, dynamo.ErrNotNumber.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dynamo.IntAttr(tt.v)
			switch {
			case tt.err == "" && (err != nil || got != tt.want):
				t.Fatalf("IntAttr = %d, %v; want %d", got, err, tt.want)
			case tt.err != "" && (err == nil || err.Error() != tt.err):
				t.Fatalf("IntAttr = %d, %v; want error %q", got, err, tt.err)
			}
		})
	}
}
