package stores_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/money"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

func TestParsePrices(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[string]int64
		err  string // in the refusal; "" for none
	}{
		{"GBP 9.99", map[string]int64{"GBP": 999}, ""},
		{"gbp 9.99\nUSD=12\nJPY: 1500\n\nKWD 1.250", map[string]int64{"GBP": 999, "USD": 1200, "JPY": 1500, "KWD": 1250}, ""},
		{"EUR 0.10", map[string]int64{"EUR": 10}, ""},
		{"EUR  19.9  ", map[string]int64{"EUR": 1990}, ""},
		{"GBP 0", map[string]int64{"GBP": 0}, ""},
		{"GBP 90071992547409.91", map[string]int64{"GBP": 9007199254740991}, ""},
		{"GBP 90071992547409.92", nil, "above the largest amount"},
		{"GBP 9.999", nil, "line 1: GBP: GBP has 2 decimal places"},
		{"JPY 1.5", nil, "JPY has 0 decimal places"},
		{"GBP -1", nil, "not a plain decimal"},
		{"GBP 1e3", nil, "not a plain decimal"},
		{"GBP 9,99", nil, "not a plain decimal"},
		{"GBP .99", nil, "not a plain decimal"},
		{"GBP 9.", nil, "not a plain decimal"},
		{"XXX 1", nil, "not an ISO 4217 currency"},
		{"XAU 1", nil, "not an ISO 4217 currency"},
		{"9.99", nil, "want a currency and an amount"},
		{"GBP 1\nGBP 2", nil, "line 2: GBP is given twice"},
		{"\n\n", nil, "at least one price"},
		{"", nil, "at least one price"},
		{strings.Repeat("GBP 1\n", 1000), nil, "at most 4096 bytes"},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := stores.ParsePrices(c.in)
			if c.err != "" {
				var ie *stores.InvalidError
				if !errors.As(err, &ie) || ie.Field != "prices" || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("%q: %v, want an InvalidError with %q", c.in, err, c.err)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("%q: %v %v, want %v", c.in, got, err, c.want)
			}
			// What FormatPrices writes, ParsePrices reads back.
			again, err := stores.ParsePrices(stores.FormatPrices(got))
			if err != nil || fmt.Sprint(again) != fmt.Sprint(got) {
				t.Fatalf("round trip: %v %v", again, err)
			}
		})
	}
}

// Any text: ParsePrices refuses it with an InvalidError or answers prices
// in known currencies, 0 to MaxMinor, that FormatPrices writes back to the
// same prices.
func FuzzParsePrices(f *testing.F) {
	for _, s := range []string{"GBP 9.99", "gbp: 1\nUSD=2.5", "JPY 1500", "KWD 1.250", "GBP 9.999", "GBP 1\nGBP 2", "", "EUR\t1", "GBP 0000000000000000000001.00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := stores.ParsePrices(s)
		if err != nil {
			var ie *stores.InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("%q: %v is no InvalidError", s, err)
			}
			return
		}
		for cur, n := range got {
			if !money.Known(cur) || n < 0 || n > money.MaxMinor {
				t.Fatalf("%q: %s %d", s, cur, n)
			}
		}
		again, err := stores.ParsePrices(stores.FormatPrices(got))
		if err != nil || fmt.Sprint(again) != fmt.Sprint(got) {
			t.Fatalf("%q: round trip %v %v", s, again, err)
		}
	})
}

func TestParseUpload(t *testing.T) {
	type problem = stores.LineProblem
	for _, c := range []struct {
		name, in, sku string
		keys          map[string][]string
		invalid       []problem
	}{
		{"plain lines for a SKU", "K-1\nK-2\r\n\n  K-3  \n", "SKU-1", map[string][]string{"SKU-1": {"K-1", "K-2", "K-3"}}, nil},
		{"csv with a header", "sku,key\nSKU-1,K-1\nSKU-2, K-2\n", "", map[string][]string{"SKU-1": {"K-1"}, "SKU-2": {"K-2"}}, nil},
		{"csv lines beside a chosen SKU", "K-1\nSKU-2,K-2", "SKU-1", map[string][]string{"SKU-1": {"K-1"}, "SKU-2": {"K-2"}}, nil},
		{"plain lines without a SKU", "K-1\nSKU-1,K-2", "", map[string][]string{"SKU-1": {"K-2"}},
			[]problem{{Line: 1, Reason: `no sku (give a SKU for the file, or lines "sku,key")`}}},
		{"bad lines by number", "K-1\nbad sku!,K-2\nSKU-1,\nK-4\x00\nK-5", "SKU-1", map[string][]string{"SKU-1": {"K-1", "K-5"}},
			[]problem{{2, `sku "bad sku!" is not a SKU`}, {3, "the key is empty"}, {4, "the key holds a control or non-printable character"}}},
		{"a key too long", strings.Repeat("k", 257), "SKU-1", map[string][]string{}, []problem{{1, "the key is longer than 256 bytes"}}},
		// (an upload then finds the store has no product "sku")
		{"a header is a header on line 1 only", "SKU-1,K-1\nsku,key", "", map[string][]string{"SKU-1": {"K-1"}, "sku": {"key"}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			up, err := stores.ParseUpload(c.in, c.sku)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(up.Keys) != fmt.Sprint(c.keys) || fmt.Sprint(up.Invalid) != fmt.Sprint(c.invalid) {
				t.Fatalf("keys %v invalid %v, want %v %v", up.Keys, up.Invalid, c.keys, c.invalid)
			}
		})
	}
	var tooBig *stores.UploadTooLargeError
	if _, err := stores.ParseUpload(strings.Repeat("k", stores.MaxUploadBytes+1), "SKU-1"); !errors.As(err, &tooBig) || !strings.Contains(tooBig.Message, "1 MiB") {
		t.Fatalf("over 1 MiB: %v", err)
	}
	lines := strings.Repeat("K\n", stores.MaxUploadLines)
	if _, err := stores.ParseUpload(lines, "SKU-1"); err != nil {
		t.Fatalf("10,000 lines (a final newline): %v", err)
	}
	if _, err := stores.ParseUpload(lines+"K", "SKU-1"); !errors.As(err, &tooBig) || !strings.Contains(tooBig.Message, "10001 lines") {
		t.Fatalf("10,001 lines: %v", err)
	}
	if _, err := stores.ParseUpload("K", "not a sku!"); err == nil {
		t.Fatal("a chosen SKU that is not one")
	}
}

// Any upload: ParseUpload refuses it as too large or answers valid keys
// and problems by increasing line number, within the text's lines, whose
// reasons never hold a key.
func FuzzParseUpload(f *testing.F) {
	for _, s := range []string{"K-1\nK-2", "sku,key\nSKU-1,K-1\nbad,,\n", "SKU-1,K\x00\n\n", "\r\n\r\nK", ",", "sku,key", strings.Repeat("x", 300)} {
		f.Add(s, "SKU-1")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, s, sku string) {
		up, err := stores.ParseUpload(s, sku)
		if err != nil {
			return
		}
		n := strings.Count(s, "\n") + 1
		last := 0
		for _, p := range up.Invalid {
			if p.Line <= last || p.Line > n {
				t.Fatalf("problem lines %v of %d lines", up.Invalid, n)
			}
			last = p.Line
		}
		for k, keys := range up.Keys {
			if !stores.ValidSKU(k) {
				t.Fatalf("SKU %q", k)
			}
			for _, key := range keys {
				if why := stores.ValidLicenseKey(key); why != "" {
					t.Fatalf("key %q %s", key, why)
				}
				for _, p := range up.Invalid {
					if len(key) > 3 && strings.Contains(p.Reason, key) {
						t.Fatalf("a reason quotes key %q: %q", key, p.Reason)
					}
				}
			}
		}
	})
}

// Products from the portal: created once per SKU, edited (prices, name,
// activity, the marketplace), each change with its audit row; a product
// made inactive is refused by a fulfilment at once (its shards say so),
// and leaves /market/.
func TestProducts(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			e.importSharded(t, "shop", "SKU-1", 0, 0, "sk_test_products_1")
			p := stores.ProductInput{SKU: "NEW-1", Name: "New one", Prices: map[string]int64{"GBP": 999, "JPY": 1500}, Active: true, Marketplace: true}
			if err := e.admin.CreateProduct(ctx, "shop", p, e.audit("product.create")); err != nil {
				t.Fatal(err)
			}
			if err := e.admin.CreateProduct(ctx, "shop", p, e.audit("product.create")); !errors.Is(err, stores.ErrProductExists) {
				t.Fatalf("the same SKU again: %v", err)
			}
			if err := e.admin.CreateProduct(ctx, "nope", p, e.audit("product.create")); !errors.Is(err, stores.ErrNoStore) {
				t.Fatalf("no store: %v", err)
			}
			var ie *stores.InvalidError
			if err := e.admin.CreateProduct(ctx, "shop", stores.ProductInput{SKU: "X", Name: "x", Prices: map[string]int64{"XAU": 1}}, e.audit("x")); !errors.As(err, &ie) {
				t.Fatalf("bad currency: %v", err)
			}
			m, err := stores.Market(ctx, e.st)
			if err != nil || len(m) != 1 || m[0].SKU != "NEW-1" || m[0].Prices["GBP"] != 999 || m[0].StoreName != "Store shop" {
				t.Fatalf("market %+v %v", m, err)
			}
			// Keys for it, a sale, then it is taken off sale and off /market/.
			if _, _, err := e.admin.ImportLicenseKeys(ctx, "shop", "NEW-1", []string{"N-1", "N-2", "N-3"}); err != nil {
				t.Fatal(err)
			}
			sale := func(ref string) error {
				_, err := e.fulfiller().Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: "sk_test_products_1", ExternalReference: ref, Currency: "GBP",
					TotalMinor: 999, Items: []stores.Line{{SKU: "NEW-1", Quantity: 1}}})
				return err
			}
			f := e.fulfiller()
			if _, err := f.Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: "sk_test_products_1", ExternalReference: "cached", Currency: "GBP",
				TotalMinor: 999, Items: []stores.Line{{SKU: "NEW-1", Quantity: 1}}}); err != nil {
				t.Fatal(err)
			}
			p.Active, p.Marketplace, p.Prices, p.Name = false, false, map[string]int64{"GBP": 1099}, "New one, renamed"
			if err := e.admin.UpdateProduct(ctx, "shop", p, e.audit("product.update")); err != nil {
				t.Fatal(err)
			}
			if err := sale("after"); !errors.Is(reasonOf(err), stores.ErrUnknownSKU) {
				t.Fatalf("sale of an inactive product: %v", err)
			}
			// A container whose listing still says active: its claim's shard refuses.
			if _, err := f.Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: "sk_test_products_1", ExternalReference: "cached-2", Currency: "GBP",
				TotalMinor: 999, Items: []stores.Line{{SKU: "NEW-1", Quantity: 1}}}); err == nil {
				t.Fatal("a container with a cached listing sold an inactive product")
			}
			if m, err := stores.Market(ctx, e.st); err != nil || len(m) != 0 {
				t.Fatalf("market after unlisting %+v %v", m, err)
			}
			l, err := stores.ReadListing(ctx, e.st.DB, e.Tables.Stores, "shop")
			if err != nil || l.Products["NEW-1"].Name != "New one, renamed" || l.Products["NEW-1"].Prices["GBP"] != 1099 || len(l.Products["NEW-1"].Prices) != 1 ||
				l.Products["NEW-1"].KeysTotal != 3 {
				t.Fatalf("product %+v %v", l.Products["NEW-1"], err)
			}
			p.Active = true
			if err := e.admin.UpdateProduct(ctx, "shop", p, e.audit("product.update")); err != nil {
				t.Fatal(err)
			}
			if err := sale("again"); err != nil {
				t.Fatalf("sale after reactivation: %v", err)
			}
			if err := e.admin.UpdateProduct(ctx, "shop", stores.ProductInput{SKU: "NONE", Name: "n", Prices: map[string]int64{"GBP": 1}}, e.audit("x")); !errors.Is(err, stores.ErrUnknownSKU) {
				t.Fatalf("unknown SKU: %v", err)
			}
			if got := e.audits(t); len(got) != 3 {
				t.Fatalf("audit rows %v, want create and two updates", got)
			}
		})
	}
}

// An upload: added, duplicates skipped (in the pool or repeated), invalid
// lines by number (unknown SKUs too), the levels after; its audit row
// first; uploading again adds nothing.
func TestUploadLicenseKeys(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			e.importSharded(t, "shop", "SKU-1", 2, 0, "sk_test_upload_1") // SKU-1-KEY-00001, -00002
			if err := e.admin.CreateProduct(ctx, "shop", stores.ProductInput{SKU: "SKU-2", Name: "Two", Prices: map[string]int64{"GBP": 1}, Active: true}, stores.NoAudit); err != nil {
				t.Fatal(err)
			}
			text := strings.Join([]string{"U-1", "SKU-1-KEY-00001", "U-2", "U-1", "SKU-2,V-1", "GONE-1,V-2", "bad sku!,V-3", "", "U-3\x07"}, "\n")
			sum, err := e.admin.UploadLicenseKeys(ctx, "shop", "SKU-1", text, e.audit("keys.upload"))
			if err != nil {
				t.Fatal(err)
			}
			want := []stores.LineProblem{{6, `the store has no product "GONE-1"`}, {7, `sku "bad sku!" is not a SKU`}, {9, "the key holds a control or non-printable character"}}
			if sum.Added != 3 || sum.Duplicates != 2 || fmt.Sprint(sum.Invalid) != fmt.Sprint(want) {
				t.Fatalf("summary %+v", sum)
			}
			if l := sum.Levels["SKU-1"]; l.Available != 4 || l.Total != 4 {
				t.Fatalf("SKU-1 level %+v", l)
			}
			if l := sum.Levels["SKU-2"]; l.Available != 1 {
				t.Fatalf("SKU-2 level %+v", l)
			}
			levels, err := e.admin.PoolLevels(ctx, "shop")
			if err != nil || levels["SKU-1"].Available != 4 || levels["SKU-2"].Available != 1 || len(levels) != 2 {
				t.Fatalf("levels %+v %v", levels, err)
			}
			again, err := e.admin.UploadLicenseKeys(ctx, "shop", "SKU-1", text, e.audit("keys.upload"))
			if err != nil || again.Added != 0 || again.Duplicates != 5 {
				t.Fatalf("again %+v %v", again, err)
			}
			if got := e.audits(t); len(got) != 2 {
				t.Fatalf("audit rows %v, want one per upload", got)
			}
			// Nothing valid: no audit row, nothing written.
			if sum, err := e.admin.UploadLicenseKeys(ctx, "shop", "SKU-1", "\n\x01\n", e.audit("keys.upload")); err != nil || sum.Added != 0 || len(sum.Invalid) != 1 {
				t.Fatalf("nothing valid: %+v %v", sum, err)
			}
			if _, err := e.admin.UploadLicenseKeys(ctx, "shop", "NOPE", "K", e.audit("keys.upload")); !errors.Is(err, stores.ErrUnknownSKU) {
				t.Fatalf("unknown chosen SKU: %v", err)
			}
			var tooBig *stores.UploadTooLargeError
			if _, err := e.admin.UploadLicenseKeys(ctx, "shop", "SKU-1", strings.Repeat("K\n", 10_001), e.audit("keys.upload")); !errors.As(err, &tooBig) {
				t.Fatalf("too many lines: %v", err)
			}
			if got := e.audits(t); len(got) != 2 {
				t.Fatalf("audit rows %v after refusals, want 2", got)
			}
		})
	}
}

// A product's activity, changed while imports give its pool new shards:
// every shard ends as the product is (a claim checks the shard's copy).
func TestProductActivityWhilePoolGrows(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b)
			ctx := context.Background()
			rounds := 6
			if b.Name == "moto" {
				rounds = 3
			}
			for round := range rounds {
				sku := fmt.Sprintf("GROW-%d", round)
				// A pool of 4 shards (poolShardsSetting), none made yet.
				f := stores.File{Stores: []stores.FileStore{{Slug: "shop", Name: "Shop", APIKeys: []string{"sk_test_growing_1"},
					Products: []stores.FileProduct{{SKU: sku, Name: sku, Prices: map[string]int64{"GBP": 1}, PoolShards: 4}}}}}
				if _, err := e.admin.Import(ctx, f); err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				wg.Go(func() {
					keys := []string{sku + "-A", sku + "-B", sku + "-C", sku + "-D"}
					if _, _, err := e.admin.ImportLicenseKeys(ctx, "shop", sku, keys); err != nil {
						t.Error(err)
					}
				})
				wg.Go(func() {
					if err := e.admin.UpdateProduct(ctx, "shop", stores.ProductInput{SKU: sku, Name: sku, Prices: map[string]int64{"GBP": 1}}, stores.NoAudit); err != nil {
						t.Error(err)
					}
				})
				wg.Wait()
				// Inactive, whichever came first: a sale is refused even by a
				// container whose listing was read before (its shard says no).
				_, err := e.fulfiller().Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: "sk_test_growing_1", ExternalReference: sku,
					Currency: "GBP", TotalMinor: 1, Items: []stores.Line{{SKU: sku, Quantity: 1}}})
				if !errors.Is(reasonOf(err), stores.ErrUnknownSKU) {
					t.Fatalf("round %d: sale of an inactive product: %v", round, err)
				}
				if active := e.activeShards(t, sku); active != 0 {
					t.Fatalf("round %d: %d shards of an inactive product take claims", round, active)
				}
			}
		})
	}
}

// activeShards counts the shards of shop's product sku (4 at most) that
// take claims.
func (e *env) activeShards(t *testing.T, sku string) int {
	t.Helper()
	n := 0
	for i := range 4 {
		out, err := e.Stack.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(e.Tables.Stores), ConsistentRead: aws.Bool(true),
			Key: dynamo.PKSK(dynamo.Tuple("poolshard", "shop", sku, fmt.Sprint(i)), "shard")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item == nil {
			t.Fatalf("shard %d of %s missing", i, sku)
		}
		if dynamo.BoolAttr(out.Item["active"]) {
			n++
		}
	}
	return n
}
