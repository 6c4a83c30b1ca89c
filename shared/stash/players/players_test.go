package players_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

func put(t *testing.T, db *dynamodb.Client, table string, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func TestStore(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			tr := ddbtest.NewTransport()
			stack := ddbtest.NewStack(t, b, ddbtest.StackOptions{Transport: tr})
			table := stack.TableName("PlayersTable")

			// Counters: one Query, only the player's "bought#" rows.
			put(t, stack.DB, table, map[string]types.AttributeValue{"pk": s("alice"), "sk": s("bought#starter"), "productId": s("starter"), "bought": n("1")})
			put(t, stack.DB, table, map[string]types.AttributeValue{"pk": s("alice"), "sk": s("bought#gem#2"), "productId": s("gem#2"), "bought": n("0")})
			put(t, stack.DB, table, map[string]types.AttributeValue{"pk": s("alice"), "sk": s("item#starter"), "quantity": n("9")})
			put(t, stack.DB, table, map[string]types.AttributeValue{"pk": s("alicia"), "sk": s("bought#starter"), "bought": n("4")})
			tr.Reset()
			got, err := players.Bought(ctx, stack.DB, table, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got["starter"] != 1 || got["gem#2"] != 0 {
				t.Errorf("Bought = %v, want starter 1, gem#2 0", got)
			}
			if calls := tr.Calls(); len(calls) != 1 || calls[0] != "Query" {
				t.Errorf("Bought made %v, want one Query", calls)
			}
			if got, err := players.Bought(ctx, stack.DB, table, "nobody"); err != nil || len(got) != 0 {
				t.Errorf("Bought(nobody) = %v, %v; want none", got, err)
			}

			// Profiles: absent, created, replaced whole.
			if _, found, err := players.Get(ctx, stack.DB, table, "alice"); err != nil || found {
				t.Fatalf("Get before Put: found %v, %v", found, err)
			}
			at := time.Date(2026, 11, 21, 12, 0, 0, 123, time.UTC)
			full := players.Profile{PlayerID: "alice", Name: "Alice", AvatarURL: "https://cdn.example.com/a.png", Language: "en", InGameLevel: 9, InGameCurrency: 1 << 53, UpdatedAt: at}
			tr.Reset()
			if err := players.Put(ctx, stack.DB, table, full); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if calls := tr.Calls(); len(calls) != 1 || calls[0] != "PutItem" {
				t.Errorf("Put made %v, want one PutItem", calls)
			}
			tr.Reset()
			got2, found, err := players.Get(ctx, stack.DB, table, "alice")
			if err != nil || !found || got2 != full {
				t.Fatalf("Get = %+v, %v, %v; want %+v", got2, found, err, full)
			}
			if calls := tr.Calls(); len(calls) != 1 || calls[0] != "GetItem" {
				t.Errorf("Get made %v, want one GetItem", calls)
			}
			minimal := players.Profile{PlayerID: "alice", Name: "Al", InGameLevel: 1, UpdatedAt: at.Add(time.Hour)}
			if err := players.Put(ctx, stack.DB, table, minimal); err != nil {
				t.Fatalf("second Put: %v", err)
			}
			if got3, _, err := players.Get(ctx, stack.DB, table, "alice"); err != nil || got3 != minimal {
				t.Fatalf("after replacement Get = %+v, %v; want %+v (avatar and language cleared)", got3, err, minimal)
			}
			// The profile row is not a counter.
			if got, _ := players.Bought(ctx, stack.DB, table, "alice"); len(got) != 2 {
				t.Errorf("Bought after the profile = %v", got)
			}
		})
	}
}

// A row whose count cannot be read (written by hand, or by a bug) is left
// out and logged; the player's other rows still answer.
func TestUnreadableRowsLeftOut(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	rows := []struct {
		sk, attr string
		value    types.AttributeValue // nil: the attribute is absent
		bad      bool
	}{
		{"item#good", "quantity", n("3"), false},
		{"item#text", "quantity", s("lots"), true},
		{"item#overflow", "quantity", n("9223372036854775808"), true},
		{"item#fraction", "quantity", n("1.5"), true},
		{"item#absent", "quantity", nil, true},
		{"debt#owed", "debt", n("2"), false},
		{"debt#text", "debt", s("two"), true},
		{"bought#good", "bought", n("1"), false},
		{"bought#text", "bought", s("one"), true},
	}
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			logs.Reset()
			ctx := context.Background()
			stack := ddbtest.NewStack(t, b, ddbtest.StackOptions{})
			table := stack.TableName("PlayersTable")
			for _, r := range rows {
				item := map[string]types.AttributeValue{"pk": s("mallory"), "sk": s(r.sk)}
				if r.value != nil {
					item[r.attr] = r.value
				}
				put(t, stack.DB, table, item)
			}
			items, debts, err := players.Holdings(ctx, stack.DB, table, "mallory")
			if err != nil {
				t.Fatalf("Holdings: %v", err)
			}
			if fmt.Sprint(items) != "[{good 3}]" || fmt.Sprint(debts) != "[{owed 2}]" {
				t.Errorf("Holdings = %v, %v; want the good rows [{good 3}] [{owed 2}]", items, debts)
			}
			counts, err := players.Bought(ctx, stack.DB, table, "mallory")
			if err != nil || len(counts) != 1 || counts["good"] != 1 {
				t.Errorf("Bought = %v, %v; want good 1", counts, err)
			}
			for _, r := range rows {
				logged := strings.Contains(logs.String(), `"sk":"`+r.sk+`"`)
				if logged != r.bad {
					t.Errorf("row %s logged %v, want %v: %s", r.sk, logged, r.bad, logs.String())
				}
			}
			if !strings.Contains(logs.String(), `"level":"ERROR"`) || !strings.Contains(logs.String(), `"playerId":"mallory"`) {
				t.Errorf("bad rows not logged at ERROR with the player: %s", logs.String())
			}
		})
	}
}
