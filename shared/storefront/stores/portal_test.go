package stores_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// auditSeq keeps the test audit rows apart.
var auditSeq atomic.Int64

// audit is a stand-in for portal.AuditOp: a new row of the PortalTable
// under pk "audit-test" (what the stores functions see is only a
// TransactWriteItem).
func (e *env) audit(action string) types.TransactWriteItem {
	return dynamo.PutNewOp(e.portalTable(), map[string]types.AttributeValue{dynamo.AttrPK: dynamo.S("audit-test"),
		dynamo.AttrSK: dynamo.S(fmt.Sprintf("%06d", auditSeq.Add(1))), "action": dynamo.S(action)})
}

// portalTable is the PortalTable's local name (no function names it yet,
// so Tables.Portal may be empty).
func (e *env) portalTable() string {
	if e.Tables.Portal != "" {
		return e.Tables.Portal
	}
	return e.Stack.TableName("PortalTable")
}

// audits lists the actions of the audit rows written.
func (e *env) audits(t *testing.T) []string {
	t.Helper()
	ex := dynamo.Build(expression.NewBuilder().WithKeyCondition(expression.Key(dynamo.AttrPK).Equal(expression.Value("audit-test"))))
	out, err := e.Stack.DB.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(e.portalTable()), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: ex.KeyCondition(), ExpressionAttributeNames: ex.Names(), ExpressionAttributeValues: ex.Values()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, dynamo.StringAttr(it["action"]))
	}
	return got
}

// 20 concurrent creations: 20 distinct keys, each listed once with its
// name and prefix, each with its audit row; every key works at once.
func TestCreateKeysConcurrently(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.importSharded(t, "shop", "SKU-1", 30, 0, "sk_test_existing_1")
			const n = 20
			keys := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					keys[i], _, errs[i] = e.admin.CreateKey(context.Background(), "shop", stores.ModeTest, fmt.Sprintf("server %d", i), e.audit("key.create"))
				})
			}
			wg.Wait()
			distinct := map[string]bool{}
			for i, k := range keys {
				if errs[i] != nil {
					t.Fatalf("creation %d: %v", i, errs[i])
				}
				distinct[k] = true
			}
			if len(distinct) != n {
				t.Fatalf("%d distinct keys of %d", len(distinct), n)
			}
			list, err := e.admin.Keys(context.Background(), "shop")
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != n+1 {
				t.Fatalf("%d keys listed, want %d", len(list), n+1)
			}
			prefixes := map[string]bool{}
			for _, k := range keys {
				prefixes[stores.KeyPrefix(k)] = true
			}
			for _, k := range list {
				if k.Name == "" {
					if k.Prefix != stores.KeyPrefix("sk_test_existing_1") { // the stores file's key: no name
						t.Errorf("file key listed as %+v", k)
					}
					continue
				}
				if !prefixes[k.Prefix] || len(k.Prefix) != len("sk_test_")+4 || k.Mode != stores.ModeTest || !k.LastUsedAt.IsZero() {
					t.Errorf("listed %+v", k)
				}
			}
			if got := e.audits(t); len(got) != n {
				t.Fatalf("%d audit rows, want %d", len(got), n)
			}
			f := e.fulfiller()
			for i, k := range keys[:3] {
				if _, err := f.Fulfil(context.Background(), stores.FulfilRequest{Store: "shop", APIKey: k, ExternalReference: fmt.Sprint("new-key-", i),
					Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}}); err != nil {
					t.Fatalf("a new key fulfils: %v", err)
				}
			}
			// A bad name writes nothing.
			if _, _, err := e.admin.CreateKey(context.Background(), "shop", stores.ModeLive, " padded ", e.audit("key.create")); !errors.Is(err, stores.ErrKeyName) {
				t.Fatalf("padded name: %v", err)
			}
			// No such store: neither the key nor the audit row.
			if _, _, err := e.admin.CreateKey(context.Background(), "nope", stores.ModeLive, "x", e.audit("key.create")); !errors.Is(err, stores.ErrNoStore) {
				t.Fatalf("no store: %v", err)
			}
			if got := e.audits(t); len(got) != n {
				t.Fatalf("%d audit rows after refusals, want %d", len(got), n)
			}
		})
	}
}

// A revoked key is refused at once, by a container that cached the store's
// listing while the key was valid too; another store's key id is unknown.
func TestRevokedKeyRefusedAtOnce(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.importSharded(t, "shop", "SKU-1", 10, 0, "sk_test_shop_file_1")
			e.importSharded(t, "other", "SKU-1", 10, 0, "sk_test_other_file_1")
			key, info, err := e.admin.CreateKey(context.Background(), "shop", stores.ModeLive, "prod server", e.audit("key.create"))
			if err != nil {
				t.Fatal(err)
			}
			f := e.fulfiller()
			req := func(ref string) stores.FulfilRequest {
				return stores.FulfilRequest{Store: "shop", APIKey: key, ExternalReference: ref, Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}}
			}
			got, err := f.Fulfil(context.Background(), req("before"))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.admin.RevokeKey(context.Background(), "other", info.ID, e.audit("key.revoke")); !errors.Is(err, stores.ErrNoKey) {
				t.Fatalf("revoke through another store: %v", err)
			}
			if err := e.admin.RevokeKey(context.Background(), "shop", info.ID, e.audit("key.revoke")); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Fulfil(context.Background(), req("after")); !errors.Is(reasonOf(err), stores.ErrUnauthorized) {
				t.Fatalf("fulfil with a revoked key (listing cached): %v", err)
			}
			if _, err := f.Order(context.Background(), "shop", key, got.Order.ID); !errors.Is(reasonOf(err), stores.ErrUnauthorized) {
				t.Fatalf("order read with a revoked key: %v", err)
			}
			if ok, _, err := stores.KeyAndReference(context.Background(), e.st, "shop", key, ""); err != nil || ok {
				t.Fatalf("checkout's key check of a revoked key: %v %v", ok, err)
			}
			list, _ := e.admin.Keys(context.Background(), "shop")
			for _, k := range list {
				if k.ID == info.ID && (k.RevokedAt.IsZero() || k.Name != "prod server") {
					t.Fatalf("listed %+v", k)
				}
			}
			if got := e.audits(t); len(got) != 2 {
				t.Fatalf("audit rows %v, want create and one revoke", got)
			}
		})
	}
}

// A key's last use is recorded at most once a minute, beside the request:
// the first request of a minute makes one more call (UpdateItem), the rest
// none; a second container that reads the listing sees the record and
// writes nothing; the list shows it.
func TestKeyLastUsed(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.importSharded(t, "shop", "SKU-1", 20, 1, "sk_test_file_key_1")
			key, info, err := e.admin.CreateKey(context.Background(), "shop", stores.ModeTest, "used", stores.NoAudit)
			if err != nil {
				t.Fatal(err)
			}
			c := &clock{t: now}
			newF := func() *stores.Fulfiller {
				// A listing cached for an hour: the counts are the key's use alone.
				return stores.NewFulfiller(e.st, c.Now, stores.Options{CacheTTL: time.Hour, RateLimit: &ratelimit.Policy{Name: "fulfil", Limit: 100000, Window: time.Hour}})
			}
			f := newF()
			n := 0
			fulfil := func(f *stores.Fulfiller) int {
				t.Helper()
				n++
				cc := &ddbcalls.Counter{}
				if _, err := f.Fulfil(ddbcalls.WithCounter(context.Background(), cc), stores.FulfilRequest{Store: "shop", APIKey: key,
					ExternalReference: fmt.Sprint("ref-", n), Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}}); err != nil {
					t.Fatal(err)
				}
				return cc.Total()
			}
			lastUsed := func() time.Time {
				list, err := e.admin.Keys(context.Background(), "shop")
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range list {
					if k.ID == info.ID {
						return k.LastUsedAt
					}
				}
				t.Fatal("key not listed")
				return time.Time{}
			}
			// Cold: listing, shards, transaction, keys, and the first use.
			if got := fulfil(f); got != 5 {
				t.Errorf("cold first fulfilment: %d calls, want 5", got)
			}
			if !lastUsed().Equal(now) {
				t.Fatalf("last used %v, want %v", lastUsed(), now)
			}
			c.Add(30 * time.Second)
			if got := fulfil(f); got != 2 {
				t.Errorf("warm fulfilment within the minute: %d calls, want 2", got)
			}
			// Another container: its listing shows the use of 30 s ago.
			if got := fulfil(newF()); got != 4 {
				t.Errorf("another container within the minute: %d calls, want 4 (cold, no record)", got)
			}
			c.Add(31 * time.Second) // 61 s after the record
			// The other container's claim moved the shard under f's view:
			// one more transaction (as any stale container pays).
			if got := fulfil(f); got != 4 {
				t.Errorf("first fulfilment of the next minute: %d calls, want 4 (a stale shard's retry, keys, the use)", got)
			}
			if !lastUsed().Equal(now.Add(61 * time.Second)) {
				t.Fatalf("last used %v", lastUsed())
			}
			// An order read records a use too (its key row's read carries it).
			c.Add(2 * time.Minute)
			cc := &ddbcalls.Counter{}
			if _, err := newF().Order(ddbcalls.WithCounter(context.Background(), cc), "shop", key, stores.OrderID("shop", "ref-1")); err != nil {
				t.Fatal(err)
			}
			if cc.Total() != 3 || !lastUsed().Equal(now.Add(181*time.Second)) {
				t.Fatalf("order read: %d calls (want 3: key+order, keys, use), last used %v", cc.Total(), lastUsed())
			}
		})
	}
}

func TestUpdateSettings(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			e.importSharded(t, "shop", "SKU-1", 1, 0, "sk_test_settings_1")
			yes, low := true, int64(3)
			s := stores.Settings{Name: "The Shop", SupportEmail: "help@shop.example", WebhookURL: "https://hooks.shop.example/tollgate",
				WebhookSignatureHeader: "X-Shop-Signature", PricesIncludeTax: &yes, EmailBuyers: true, LowStockThreshold: &low}
			if err := e.admin.UpdateSettings(context.Background(), "shop", s, true, e.audit("settings")); err != nil {
				t.Fatal(err)
			}
			st, found, err := e.admin.ReadStore(context.Background(), "shop")
			if err != nil || !found {
				t.Fatal(found, err)
			}
			got := st.Settings()
			if got.Name != s.Name || got.SupportEmail != s.SupportEmail || got.WebhookURL != s.WebhookURL || got.WebhookSignatureHeader != s.WebhookSignatureHeader ||
				got.PricesIncludeTax == nil || !*got.PricesIncludeTax || !got.EmailBuyers || got.LowStockThreshold == nil || *got.LowStockThreshold != 3 {
				t.Fatalf("read back %+v", got)
			}
			// Unset optional settings are removed.
			s.PricesIncludeTax, s.LowStockThreshold = nil, nil
			if err := e.admin.UpdateSettings(context.Background(), "shop", s, true, e.audit("settings")); err != nil {
				t.Fatal(err)
			}
			if st, _, _ := e.admin.ReadStore(context.Background(), "shop"); st.PricesIncludeTax != nil || st.LowStockThreshold() != stores.DefaultLowStockThreshold {
				t.Fatalf("unset settings kept: %+v", st)
			}
			for _, c := range []struct {
				name  string
				edit  func(*stores.Settings)
				prod  bool
				field string
			}{
				{"http in prod", func(s *stores.Settings) { s.WebhookURL = "http://hooks.shop.example/" }, true, "webhookUrl"},
				{"private address in prod", func(s *stores.Settings) { s.WebhookURL = "https://10.0.0.8/hook" }, true, "webhookUrl"},
				{"loopback name in prod", func(s *stores.Settings) { s.WebhookURL = "https://localhost/hook" }, true, "webhookUrl"},
				{"credentials in URL", func(s *stores.Settings) { s.WebhookURL = "https://u:p@hooks.shop.example/" }, false, "webhookUrl"},
				{"http to a public host outside prod", func(s *stores.Settings) { s.WebhookURL = "http://hooks.shop.example/" }, false, "webhookUrl"},
				{"reserved header", func(s *stores.Settings) { s.WebhookSignatureHeader = "webhook-signature" }, false, "webhookSignatureHeader"},
				{"display name", func(s *stores.Settings) { s.SupportEmail = "Help <help@shop.example>" }, false, "supportEmail"},
				{"empty name", func(s *stores.Settings) { s.Name = " " }, false, "name"},
				{"threshold", func(s *stores.Settings) { n := int64(-1); s.LowStockThreshold = &n }, false, "lowStockThreshold"},
			} {
				bad := s
				c.edit(&bad)
				var ie *stores.InvalidError
				if err := e.admin.UpdateSettings(context.Background(), "shop", bad, c.prod, e.audit("settings")); !errors.As(err, &ie) || ie.Field != c.field {
					t.Errorf("%s: %v, want an InvalidError of %s", c.name, err, c.field)
				}
			}
			// Outside prod, http to loopback is taken (make run's receivers).
			s.WebhookURL = "http://127.0.0.1:9999/hooks"
			if err := e.admin.UpdateSettings(context.Background(), "shop", s, false, e.audit("settings")); err != nil {
				t.Fatal(err)
			}
			if err := e.admin.UpdateSettings(context.Background(), "nope", s, false, e.audit("settings")); !errors.Is(err, stores.ErrNoStore) {
				t.Fatalf("no store: %v", err)
			}
			if got := e.audits(t); len(got) != 3 {
				t.Fatalf("audit rows %v, want 3 (refused changes write none)", got)
			}
		})
	}
}
