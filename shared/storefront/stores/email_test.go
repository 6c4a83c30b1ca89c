package stores_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Licensing fulfilments email the buyer only when the store's emailBuyers
// is on (and the request names a buyer); the event names the order and
// holds neither its keys nor the address; a replay of the request enqueues
// nothing more. The receipt's read finds the order's keys and the store's
// support address.
func TestLicensingEmailBuyers(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			for _, s := range []struct {
				slug  string
				email bool
			}{{"quiet", false}, {"mailing", true}} {
				f := stores.File{Stores: []stores.FileStore{{Slug: s.slug, Name: "Store " + s.slug, APIKeys: []string{"sk_test_email_" + s.slug},
					SupportEmail: "help@" + s.slug + ".example", EmailBuyers: s.email,
					Products: []stores.FileProduct{{SKU: "SKU-1", Name: "Product One", Prices: map[string]int64{"GBP": 100},
						LicenseKeys: []string{"KEY-" + s.slug + "-1", "KEY-" + s.slug + "-2"}}}}}}
				if _, err := e.admin.Import(context.Background(), f); err != nil {
					t.Fatal(err)
				}
			}
			f := stores.NewFulfiller(e.st, func() time.Time { return now }, stores.Options{})
			fulfil := func(slug, ref, email string) stores.Order {
				got, err := f.Fulfil(context.Background(), stores.FulfilRequest{Store: slug, APIKey: "sk_test_email_" + slug, ExternalReference: ref,
					CustomerEmail: email, Currency: "GBP", TotalMinor: 100, Items: []stores.Line{{SKU: "SKU-1", Quantity: 1}}})
				if err != nil {
					t.Fatal(err)
				}
				return got.Order
			}
			quiet := fulfil("quiet", "ref-1", "buyer@example.com")
			mailing := fulfil("mailing", "ref-1", "buyer@example.com")
			fulfil("mailing", "ref-1", "buyer@example.com") // a replay
			fulfil("mailing", "ref-2", "")                  // no buyer to mail
			box := outbox.Box{DB: e.Stack.DB, Table: e.Tables.Outbox}
			events, err := box.List(context.Background(), dynamo.Tuple(stores.EmailKind, "mailing"), "", 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Type != stores.EmailReceipt {
				t.Fatalf("email events of the mailing store %+v, want one receipt", events)
			}
			if p := string(events[0].Payload); strings.Contains(p, "KEY-") || strings.Contains(p, "buyer@") {
				t.Fatalf("the event's payload holds a key or the address: %s", p)
			}
			em, err := stores.ParseEmail(events[0])
			if err != nil || em.OrderID != mailing.ID || em.Store != "mailing" {
				t.Fatalf("payload %+v (%v)", em, err)
			}
			if quietEvents, _ := box.List(context.Background(), dynamo.Tuple(stores.EmailKind, "quiet"), "", 100); len(quietEvents) != 0 {
				t.Fatalf("the store with emailBuyers off has email events %+v (order %s)", quietEvents, quiet.ID)
			}
			o, l, found, err := stores.EmailOrder(context.Background(), e.st, "mailing", mailing.ID, func() time.Time { return now })
			if err != nil || !found || l.Store.SupportEmail != "help@mailing.example" || !l.Store.EmailBuyers ||
				len(o.Items) != 1 || strings.Join(o.Items[0].LicenseKeys, ",") != strings.Join(mailing.Items[0].LicenseKeys, ",") {
				t.Fatalf("EmailOrder: %+v %+v %v %v", o, l.Store, found, err)
			}
		})
	}
}

func TestSupportEmailIsChecked(t *testing.T) {
	for _, bad := range []string{"not-an-address", "Help <help@x.example>", "a@b.example, c@d.example"} {
		_, err := stores.ParseFile([]byte(`{"stores": [{"slug": "s", "name": "S", "apiKeys": ["sk_test_abcdefgh"], "supportEmail": "` + bad + `", "products": []}]}`))
		if err == nil || !strings.Contains(err.Error(), "supportEmail") {
			t.Errorf("supportEmail %q: %v", bad, err)
		}
	}
}

// The checkout's fulfilment and refund transactions carry the buyer's
// email (an order without an address: none), as their last outbox item
// before the paid reference, so the indexes the checkout reads stay.
func TestLifecycleOpsEnqueueEmails(t *testing.T) {
	tables := dynamo.Tables{Stores: "S", Outbox: "O"}
	o := stores.Order{ID: "ORD-ABCDEFGHJKMN", Store: "shop", Status: stores.StatusPending, CustomerEmail: "b@example.com", Currency: "GBP",
		TotalMinor: 100, Items: []stores.OrderItem{{SKU: "A", Quantity: 1}}, CreatedAt: now, UpdatedAt: now}
	emailIDs := func(ops []types.TransactWriteItem) []string {
		var ids []string
		for _, op := range ops {
			if op.Put != nil && *op.Put.TableName == "O" {
				if id, ok := outbox.IDOfKey(dynamo.StringAttr(op.Put.Item[dynamo.AttrPK])); ok && strings.HasPrefix(id, "email:") {
					ids = append(ids, id)
				}
			}
		}
		return ids
	}
	keys := &stores.Reservation{Claims: []stores.Claim{{SKU: "A", Shard: 0, Start: 0, Count: 1}}}
	ful, err := stores.FulfilPendingOps(tables, o, keys, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := emailIDs(ful); len(got) != 1 || got[0] != "email:store:shop:order:ORD-ABCDEFGHJKMN:email.receipt" {
		t.Fatalf("fulfilment's emails %v", got)
	}
	if ful[stores.ClaimAt].Update == nil {
		t.Fatal("the first line's claim moved")
	}
	ref, err := stores.RefundOps(tables, o, 60, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := emailIDs(ref); len(got) != 1 || got[0] != "email:store:shop:order:ORD-ABCDEFGHJKMN:email.refund:60" {
		t.Fatalf("refund's emails %v", got)
	}
	o.CustomerEmail = ""
	if ful, _ := stores.FulfilPendingOps(tables, o, keys, now); len(emailIDs(ful)) != 0 {
		t.Fatal("an order without an address enqueued an email")
	}
}
