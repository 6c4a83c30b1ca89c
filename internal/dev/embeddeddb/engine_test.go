package embeddeddb_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	miniserver "github.com/truora/minidyn/server"

	"github.com/tollgate-dev/tollgate/internal/dev/embeddeddb"
)

// newDB returns an engine with the tables "items" (pk, sk; a sparse index
// "byG" on g, ord) and "records" (pk), and an SDK client reaching it in
// process.
func newDB(t testing.TB, hot int) (*embeddeddb.Engine, *dynamodb.Client) {
	t.Helper()
	e := embeddeddb.New()
	e.SetHotPartitions(hot)
	db := dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://embedded.invalid"),
		Credentials:      aws.AnonymousCredentials{},
		HTTPClient:       &http.Client{Transport: e.Transport()},
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()
	s := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(h, r string) []types.KeySchemaElement {
		ks := []types.KeySchemaElement{{AttributeName: aws.String(h), KeyType: types.KeyTypeHash}}
		if r != "" {
			ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(r), KeyType: types.KeyTypeRange})
		}
		return ks
	}
	for _, in := range []*dynamodb.CreateTableInput{
		{
			TableName: aws.String("items"), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{s("pk"), s("sk"), s("g"), {AttributeName: aws.String("ord"), AttributeType: types.ScalarAttributeTypeN}},
			KeySchema:            key("pk", "sk"),
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName: aws.String("byG"), KeySchema: key("g", "ord"), Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			}},
		},
		{TableName: aws.String("records"), BillingMode: types.BillingModePayPerRequest, AttributeDefinitions: []types.AttributeDefinition{s("pk")}, KeySchema: key("pk", "")},
	} {
		if _, err := db.CreateTable(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	return e, db
}

// hotSizes are the engine's sizes the tests run with: the default, and one
// partition kept hot, so that every call warms and cools partitions.
var hotSizes = []int{embeddeddb.HotPartitions, 1}

// forHot runs f once per size of hotSizes.
func forHot(t *testing.T, f func(t *testing.T, hot int)) {
	for _, hot := range hotSizes {
		t.Run(fmt.Sprintf("hot=%d", hot), func(t *testing.T) { f(t, hot) })
	}
}

// client is an SDK client of e, in process, without retries.
func client(e *embeddeddb.Engine) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://embedded.invalid"),
		Credentials:      aws.AnonymousCredentials{},
		HTTPClient:       &http.Client{Transport: e.Transport()},
		RetryMaxAttempts: 1,
	})
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk), "sk": str(sk)}
}

func put(t testing.TB, db *dynamodb.Client, table string, it map[string]types.AttributeValue) {
	t.Helper()
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
		t.Fatal(err)
	}
}

func get(t testing.TB, db *dynamodb.Client, table string, k map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: k})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func withAttrs(k map[string]types.AttributeValue, kv ...any) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for n, v := range k {
		out[n] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1].(types.AttributeValue) //nolint:gosec // G602: pairs; an odd list panics, failing the test
	}
	return out
}

// TestTransactWriteItems: all or nothing, a reason per item (the item
// where ALL_OLD asks for it), and REMOVE applied in a transaction.
func TestTransactWriteItems(t *testing.T) {
	forHot(t, func(t *testing.T, hot int) {
		ctx := context.Background()
		ifAbsent := aws.String("attribute_not_exists(pk)")
		tests := []struct {
			name     string
			items    func() []types.TransactWriteItem
			codes    []string // nil: applied
			withItem int      // the reason that carries the stored item (-1: none)
			after    map[string]string
		}{
			{
				name: "applied",
				items: func() []types.TransactWriteItem {
					return []types.TransactWriteItem{
						{Put: &types.Put{TableName: aws.String("records"), Item: map[string]types.AttributeValue{"pk": str("new")}, ConditionExpression: ifAbsent}},
						{Update: &types.Update{TableName: aws.String("items"), Key: key("p1", "a"), UpdateExpression: aws.String("ADD n :one REMOVE g, ord"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}},
					}
				},
				withItem: -1,
				after:    map[string]string{"records/new": "present", "items/p1/a": "n=6 g=absent"},
			},
			{
				name: "second and third fail: nothing applied, both reported",
				items: func() []types.TransactWriteItem {
					return []types.TransactWriteItem{
						{Update: &types.Update{TableName: aws.String("items"), Key: key("p1", "a"), UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}},
						{Put: &types.Put{TableName: aws.String("records"), Item: map[string]types.AttributeValue{"pk": str("r1")}, ConditionExpression: ifAbsent}},
						{Update: &types.Update{
							TableName: aws.String("items"), Key: key("p2", "b"), UpdateExpression: aws.String("REMOVE g"),
							ConditionExpression: aws.String("n > :big"), ExpressionAttributeValues: map[string]types.AttributeValue{":big": num(100)},
							ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
						}},
						{Delete: &types.Delete{TableName: aws.String("records"), Key: map[string]types.AttributeValue{"pk": str("r2")}}},
					}
				},
				codes:    []string{"None", "ConditionalCheckFailed", "ConditionalCheckFailed", "None"},
				withItem: 2,
				after:    map[string]string{"items/p1/a": "n=5 g=present", "records/r2": "present", "items/p2/b": "n=7 g=present"},
			},
			{
				name: "a condition check fails: the put before it is undone",
				items: func() []types.TransactWriteItem {
					return []types.TransactWriteItem{
						{Put: &types.Put{TableName: aws.String("records"), Item: map[string]types.AttributeValue{"pk": str("new2")}}},
						{ConditionCheck: &types.ConditionCheck{TableName: aws.String("items"), Key: key("p1", "a"), ConditionExpression: aws.String("attribute_not_exists(n)")}},
					}
				},
				codes:    []string{"None", "ConditionalCheckFailed"},
				withItem: -1,
				after:    map[string]string{"records/new2": "absent", "items/p1/a": "n=5 g=present"},
			},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, db := newDB(t, hot)
				put(t, db, "items", withAttrs(key("p1", "a"), "n", num(5), "g", str("G"), "ord", num(1)))
				put(t, db, "items", withAttrs(key("p2", "b"), "n", num(7), "g", str("G"), "ord", num(2)))
				put(t, db, "records", map[string]types.AttributeValue{"pk": str("r1")})
				put(t, db, "records", map[string]types.AttributeValue{"pk": str("r2")})
				_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tc.items()})
				var tce *types.TransactionCanceledException
				switch {
				case tc.codes == nil && err != nil:
					t.Fatalf("err %v, want applied", err)
				case tc.codes != nil && !errors.As(err, &tce):
					t.Fatalf("err %v, want TransactionCanceledException", err)
				case tc.codes != nil:
					var codes []string
					for i, r := range tce.CancellationReasons {
						codes = append(codes, aws.ToString(r.Code))
						if (i == tc.withItem) != (len(r.Item) > 0) {
							t.Errorf("reason %d: item %v", i, r.Item)
						}
					}
					if fmt.Sprint(codes) != fmt.Sprint(tc.codes) {
						t.Errorf("codes %v, want %v", codes, tc.codes)
					}
				}
				for where, want := range tc.after {
					if got := describe(t, db, where); got != want {
						t.Errorf("%s: %s, want %s", where, got, want)
					}
				}
				// The index holds what the table holds.
				indexed := queryIndex(t, db, "G")
				var want []string
				for _, k := range []string{"p1/a", "p2/b"} {
					if describe(t, db, "items/"+k) != "absent" && get(t, db, "items", key(k[:2], k[3:]))["g"] != nil {
						want = append(want, k)
					}
				}
				if fmt.Sprint(indexed) != fmt.Sprint(want) {
					t.Errorf("index byG holds %v, want %v", indexed, want)
				}
			})
		}
	})
}

// describe renders "records/pk" as present/absent and "items/pk/sk" as its
// n and whether it has g.
func describe(t testing.TB, db *dynamodb.Client, where string) string {
	t.Helper()
	parts := strings.Split(where, "/")
	table, pk := parts[0], parts[1]
	if table == "records" {
		if get(t, db, table, map[string]types.AttributeValue{"pk": str(pk)}) == nil {
			return "absent"
		}
		return "present"
	}
	it := get(t, db, table, key(pk, parts[2]))
	if it == nil {
		return "absent"
	}
	g := "absent"
	if it["g"] != nil {
		g = "present"
	}
	return fmt.Sprintf("n=%s g=%s", it["n"].(*types.AttributeValueMemberN).Value, g)
}

// queryIndex lists "pk/sk" of the items index byG holds for g, in index
// order.
func queryIndex(t testing.TB, db *dynamodb.Client, g string) []string {
	t.Helper()
	p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
		TableName: aws.String("items"), IndexName: aws.String("byG"), Limit: aws.Int32(1),
		KeyConditionExpression:    aws.String("g = :g"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":g": str(g)},
	})
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			out = append(out, it["pk"].(*types.AttributeValueMemberS).Value+"/"+it["sk"].(*types.AttributeValueMemberS).Value)
		}
	}
	return out
}

// TestRemoveLeavesTheIndex: REMOVE deletes top-level attributes (minidyn
// v0.8.2 alone ignores it), an item losing its index keys leaves the
// sparse index, and ReturnValues reflect the removal.
func TestRemoveLeavesTheIndex(t *testing.T) {
	forHot(t, func(t *testing.T, hot int) {
		ctx := context.Background()
		_, db := newDB(t, hot)
		put(t, db, "items", withAttrs(key("p1", "a"), "g", str("G"), "ord", num(2), "x", str("X")))
		put(t, db, "items", withAttrs(key("p2", "a"), "g", str("G"), "ord", num(1)))
		if got := queryIndex(t, db, "G"); fmt.Sprint(got) != "[p2/a p1/a]" {
			t.Fatalf("index %v", got)
		}
		out, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String("items"), Key: key("p1", "a"),
			UpdateExpression: aws.String("SET y = :y REMOVE #g, x"), ExpressionAttributeNames: map[string]string{"#g": "g"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":y": str("Y")},
			ReturnValues:              types.ReturnValueAllNew,
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.Attributes["g"] != nil || out.Attributes["x"] != nil || out.Attributes["y"] == nil {
			t.Errorf("ALL_NEW %v", out.Attributes)
		}
		it := get(t, db, "items", key("p1", "a"))
		if it["g"] != nil || it["x"] != nil || it["ord"] == nil {
			t.Errorf("stored %v", it)
		}
		if got := queryIndex(t, db, "G"); fmt.Sprint(got) != "[p2/a]" {
			t.Errorf("index after REMOVE %v", got)
		}
	})
}

// TestQueryAndScan: a Query reads one partition (and needs the partition
// key's equality); a Scan pages through every partition, each item once,
// with Limit counting the items evaluated (filtered or not).
func TestQueryAndScan(t *testing.T) {
	forHot(t, func(t *testing.T, hot int) {
		ctx := context.Background()
		_, db := newDB(t, hot)
		for p := range 5 {
			for s := range 3 {
				put(t, db, "items", withAttrs(key(fmt.Sprintf("p%d", p), fmt.Sprintf("s%d", s)), "n", num(p*10+s)))
			}
		}
		q, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String("items"), KeyConditionExpression: aws.String("pk = :p AND begins_with(sk, :s)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": str("p3"), ":s": str("s")},
		})
		if err != nil || len(q.Items) != 3 {
			t.Fatalf("query: %v items, err %v", len(q.Items), err)
		}
		if _, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String("items"), KeyConditionExpression: aws.String("sk = :s"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": str("s1")},
		}); err == nil {
			t.Error("query without the partition key: no error")
		}
		for _, tc := range []struct {
			name   string
			limit  int32
			filter bool
			want   int
		}{{"all", 0, false, 15}, {"limit 4", 4, false, 15}, {"limit 2, filtered", 2, true, 5}, {"limit 3, filtered", 3, true, 5}} {
			t.Run(tc.name, func(t *testing.T) {
				in := &dynamodb.ScanInput{TableName: aws.String("items")}
				if tc.limit > 0 {
					in.Limit = aws.Int32(tc.limit)
				}
				if tc.filter {
					in.FilterExpression = aws.String("sk = :s")
					in.ExpressionAttributeValues = map[string]types.AttributeValue{":s": str("s1")}
				}
				seen := map[string]bool{}
				pages := 0
				for p := dynamodb.NewScanPaginator(db, in); p.HasMorePages(); pages++ {
					page, err := p.NextPage(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if tc.limit > 0 && len(page.Items) > int(tc.limit) {
						t.Fatalf("page of %d items over Limit %d", len(page.Items), tc.limit)
					}
					for _, it := range page.Items {
						k := fmt.Sprint(it["pk"], it["sk"])
						if seen[k] {
							t.Fatalf("%s twice", k)
						}
						seen[k] = true
					}
				}
				if len(seen) != tc.want {
					t.Errorf("%d items in %d pages, want %d", len(seen), pages, tc.want)
				}
			})
		}
	})
}

// TestConcurrentTransactions: transactions racing on one counter (under
// -race) keep the condition and all or nothing: each applied one raised
// the counter and wrote its record, no other did, and the counter never
// passed its limit.
func TestConcurrentTransactions(t *testing.T) {
	forHot(t, func(t *testing.T, hot int) {
		ctx := context.Background()
		_, db := newDB(t, hot)
		const limit, workers, each = 40, 8, 10
		put(t, db, "items", withAttrs(key("counter", "c"), "n", num(0)))
		var wg sync.WaitGroup
		applied := make(chan string, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					id := fmt.Sprintf("w%d-%d", w, i)
					_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
						{Put: &types.Put{TableName: aws.String("records"), Item: map[string]types.AttributeValue{"pk": str(id)}, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
						{Update: &types.Update{
							TableName: aws.String("items"), Key: key("counter", "c"), UpdateExpression: aws.String("ADD n :one"),
							ConditionExpression:       aws.String("n < :limit"),
							ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":limit": num(limit)},
						}},
					}})
					var tce *types.TransactionCanceledException
					switch {
					case err == nil:
						applied <- id
					case !errors.As(err, &tce):
						t.Errorf("%s: %v", id, err)
					}
				}
			})
		}
		wg.Wait()
		close(applied)
		var ids []string
		for id := range applied {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		if len(ids) != limit {
			t.Errorf("%d transactions applied, want %d", len(ids), limit)
		}
		if got := describe(t, db, "items/counter/c"); got != fmt.Sprintf("n=%d g=absent", limit) {
			t.Errorf("counter %s", got)
		}
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("records")})
		if err != nil {
			t.Fatal(err)
		}
		var stored []string
		for _, it := range out.Items {
			stored = append(stored, it["pk"].(*types.AttributeValueMemberS).Value)
		}
		sort.Strings(stored)
		if fmt.Sprint(stored) != fmt.Sprint(ids) {
			t.Errorf("records %v, want those of the applied transactions %v", stored, ids)
		}
	})
}

// TestEmulateFailure: every item call fails with a 500 until cleared.
func TestEmulateFailure(t *testing.T) {
	e, db := newDB(t, embeddeddb.HotPartitions)
	e.EmulateFailure(miniserver.FailureConditionInternalServerError)
	_, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("records"), Key: map[string]types.AttributeValue{"pk": str("x")}})
	var ise *types.InternalServerError
	if !errors.As(err, &ise) {
		t.Fatalf("err %v, want InternalServerError", err)
	}
	e.EmulateFailure(miniserver.FailureConditionNone)
	if get(t, db, "records", map[string]types.AttributeValue{"pk": str("x")}) != nil {
		t.Fatal("an item from nowhere")
	}
}
