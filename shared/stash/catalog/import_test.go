package catalog_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

// edit returns a copy of f with fn applied to the product with id (which
// must exist).
func edit(t *testing.T, f catalog.File, id string, fn func(p *catalog.Product)) catalog.File {
	t.Helper()
	out := catalog.File{Products: slices.Clone(f.Products)}
	for i := range out.Products {
		if out.Products[i].ProductID == id {
			p := out.Products[i]
			p.Prices = maps.Clone(p.Prices)
			p.Metadata = maps.Clone(p.Metadata)
			fn(&p)
			out.Products[i] = p
			return out
		}
	}
	t.Fatalf("no product %s in the file", id)
	return out
}

func without(f catalog.File, ids ...string) catalog.File {
	return catalog.File{Products: slices.DeleteFunc(slices.Clone(f.Products), func(p catalog.Product) bool {
		return slices.Contains(ids, p.ProductID)
	})}
}

func changes(res catalog.ImportResult) []string {
	var out []string
	for _, c := range res.Changes {
		out = append(out, c.String())
	}
	return out
}

func TestImportCreate(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			f := sample(t)
			before := time.Now().Add(-time.Second)
			res := e.importFile(f)
			if res.Unchanged != 0 || len(res.Changes) != len(f.Products) {
				t.Fatalf("result %+v, want %d creates", res, len(f.Products))
			}
			for i, c := range res.Changes {
				if c.Kind != catalog.KindCreate || c.ProductID != f.Products[i].ProductID || c.String() != "create "+c.ProductID {
					t.Fatalf("change %d = %+v (%s), want create %s", i, c, c, f.Products[i].ProductID)
				}
			}
			if calls := e.tr.Calls(); calls[0] != "Scan" || len(calls) != 1+len(f.Products) || slices.Contains(calls, "UpdateItem") {
				t.Fatalf("calls %v, want one Scan and one PutItem per product", calls)
			}

			products, err := catalog.Scan(context.Background(), e.db, e.table)
			if err != nil {
				t.Fatal(err)
			}
			if len(products) != len(f.Products) {
				t.Fatalf("%d rows, want %d", len(products), len(f.Products))
			}
			for _, p := range products {
				want := f.Products[slices.IndexFunc(f.Products, func(w catalog.Product) bool { return w.ProductID == p.ProductID })]
				got := p
				got.Active, got.Available, got.Reserved, got.Sold, got.Version, got.UpdatedAt = false, 0, 0, 0, 0, time.Time{}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: read back\n%+v\nwant\n%+v", p.ProductID, got, want)
				}
				if !p.Active || p.Version != 1 || p.Reserved != 0 || p.Sold != 0 || p.UpdatedAt.Before(before) {
					t.Errorf("%s: state %+v, want active, version 1, no counters, updatedAt now", p.ProductID, p)
				}
			}

			// The exact attributes other code writes conditions against.
			limited := e.row("founders_bundle")
			unlimited := e.row("coins_1000")
			attrs := []struct {
				row  map[string]types.AttributeValue
				attr string
				want types.AttributeValue // nil: absent
			}{
				{limited, "pk", &types.AttributeValueMemberS{Value: "founders_bundle"}},
				{limited, "productId", &types.AttributeValueMemberS{Value: "founders_bundle"}},
				{limited, "unlimited", &types.AttributeValueMemberBOOL{Value: false}},
				{limited, "stock", num(10)},
				{limited, "available", num(10)},
				{limited, "reserved", num(0)},
				{limited, "sold", num(0)},
				{limited, "perPlayerLimit", num(1)},
				{limited, "locked", &types.AttributeValueMemberBOOL{Value: false}},
				{limited, "active", &types.AttributeValueMemberBOOL{Value: true}},
				{limited, "version", num(1)},
				{unlimited, "unlimited", &types.AttributeValueMemberBOOL{Value: true}},
				{unlimited, "available", num(0)},
				{unlimited, "stock", nil},
				{unlimited, "guid", nil},
				{unlimited, "imageUrl", nil},
				{unlimited, "description", nil},
				{unlimited, "perPlayerLimit", nil},
				{e.row("winter_festival_skin"), "locked", &types.AttributeValueMemberBOOL{Value: true}},
				{e.row("energy_refill"), "prices", &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"USD": num(49), "JPY": num(80)}}},
			}
			for _, a := range attrs {
				got, ok := a.row[a.attr]
				if a.want == nil {
					if ok {
						t.Errorf("%s: %s = %#v, want absent", str(a.row["pk"]), a.attr, got)
					}
					continue
				}
				if !reflect.DeepEqual(got, a.want) {
					t.Errorf("%s: %s = %#v, want %#v", str(a.row["pk"]), a.attr, got, a.want)
				}
			}
			if _, err := time.Parse(time.RFC3339Nano, str(limited["updatedAt"])); err != nil {
				t.Errorf("updatedAt: %v", err)
			}
		})
	}
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func TestImportUnchangedWritesNothing(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			f := sample(t)
			e.importFile(f)
			e.tr.Reset()
			res := e.importFile(f)
			if len(res.Changes) != 0 || res.Unchanged != len(f.Products) {
				t.Fatalf("re-import: %+v, want all unchanged", res)
			}
			if calls := e.tr.Calls(); !reflect.DeepEqual(calls, []string{"Scan"}) {
				t.Fatalf("re-import made calls %v, want only the Scan", calls)
			}
			if v := e.product("gem_pack_small").Version; v != 1 {
				t.Fatalf("version %d after an unchanged import, want 1", v)
			}
		})
	}
}

func TestImportUpdate(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			f := sample(t)
			e.importFile(f)
			ctx := context.Background()
			if ok, err := reserve(ctx, e.db, e.table, "gem_pack_small", "USD", 199, 2); !ok || err != nil {
				t.Fatalf("reserve: %v %v", ok, err)
			}

			priced := edit(t, f, "gem_pack_small", func(p *catalog.Product) {
				p.Prices["USD"] = 249
				p.Prices["KRW"] = 2500
				p.Name = "Bag of Gems"
			})
			steps := []struct {
				name   string
				file   catalog.File
				want   []string
				checks func(p catalog.Product) bool
			}{
				{"price and name", priced, []string{"update gem_pack_small: name,prices"}, func(p catalog.Product) bool {
					return p.Version == 2 && p.Prices["USD"] == 249 && p.Prices["KRW"] == 2500 && len(p.Prices) == 5 && p.Name == "Bag of Gems"
				}},
				{"lock, limit, metadata, guid", edit(t, priced, "gem_pack_small", func(p *catalog.Product) {
					p.Locked = true
					p.PerPlayerLimit = ptr(5)
					p.Metadata["amount"] = "120"
					p.GUID = "new-guid"
					p.Description = "120 gems."
				}), []string{"update gem_pack_small: guid,description,perPlayerLimit,locked,metadata"}, func(p catalog.Product) bool {
					return p.Version == 3 && p.Locked && *p.PerPlayerLimit == 5 && p.Metadata["amount"] == "120" && p.GUID == "new-guid" && p.Description == "120 gems."
				}},
				{"unchanged", edit(t, priced, "gem_pack_small", func(p *catalog.Product) {
					p.Locked = true
					p.PerPlayerLimit = ptr(5)
					p.Metadata["amount"] = "120"
					p.GUID = "new-guid"
					p.Description = "120 gems."
				}), nil, func(p catalog.Product) bool { return p.Version == 3 }},
				{"unlock, other limit", edit(t, priced, "gem_pack_small", func(p *catalog.Product) {
					p.PerPlayerLimit = ptr(2)
					p.Metadata["amount"] = "120"
					p.GUID = "new-guid"
					p.Description = "120 gems."
				}), []string{"update gem_pack_small: perPlayerLimit,locked"}, func(p catalog.Product) bool {
					return p.Version == 4 && !p.Locked && *p.PerPlayerLimit == 2
				}},
			}
			for _, st := range steps {
				before := e.row("gem_pack_small")
				res := e.importFile(st.file)
				if got := changes(res); !reflect.DeepEqual(got, st.want) {
					t.Fatalf("%s: changes %q, want %q", st.name, got, st.want)
				}
				if res.Unchanged != len(f.Products)-len(st.want) {
					t.Fatalf("%s: %d unchanged, want %d", st.name, res.Unchanged, len(f.Products)-len(st.want))
				}
				p := e.product("gem_pack_small")
				if !st.checks(p) {
					t.Fatalf("%s: row %+v", st.name, p)
				}
				// Counters untouched: the purchase's reservation stays.
				if p.Reserved != 2 || p.Available != -2 || p.Sold != 0 || !p.Unlimited() {
					t.Fatalf("%s: counters changed: %+v", st.name, p)
				}
				if bumped := str(before["updatedAt"]) != str(e.row("gem_pack_small")["updatedAt"]); bumped != (st.want != nil) {
					t.Fatalf("%s: updatedAt bumped %v", st.name, bumped)
				}
			}
			if v := e.product("gem_pack_medium").Version; v != 1 {
				t.Fatalf("an unchanged product's version moved to %d", v)
			}
			// Purchases see the new price and limit.
			if ok, _ := reserve(ctx, e.db, e.table, "gem_pack_small", "USD", 199, 1); ok {
				t.Fatal("reserved at the old price")
			}
			if ok, _ := reserve(ctx, e.db, e.table, "gem_pack_small", "KRW", 2500, 1); !ok {
				t.Fatal("could not reserve at the new price")
			}
		})
	}
}

// removeIgnored reports whether the backend ignores top-level REMOVE in
// update expressions (minidyn v0.8.2 does: its interpreter writes back the
// attributes it set but never deletes the removed ones).
func removeIgnored(t *testing.T, e *env) bool {
	t.Helper()
	ctx := context.Background()
	table := e.stack.TableName("PlayersTable")
	k := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "remove-probe"}, "sk": &types.AttributeValueMemberS{Value: "x"}}
	item := maps.Clone(k)
	item["a"] = &types.AttributeValueMemberS{Value: "A"}
	if _, err := e.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
		t.Fatal(err)
	}
	expr := "REMOVE a"
	if _, err := e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: k, UpdateExpression: &expr}); err != nil {
		t.Fatal(err)
	}
	out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	_, still := out.Item["a"]
	e.tr.Reset()
	return still
}

// Clearing optional fields removes their attributes, and the import
// converges (the next one writes nothing).
func TestImportClearsFields(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			if removeIgnored(t, e) {
				t.Skipf("%s ignores REMOVE in update expressions: clearing fields cannot be tested on it", b.Name)
			}
			f := sample(t)
			e.importFile(f)
			cleared := edit(t, f, "founders_bundle", func(p *catalog.Product) {
				p.GUID, p.Description, p.ImageURL, p.Metadata, p.PerPlayerLimit, p.Stock = "", "", "", nil, nil, nil
			})
			res := e.importFile(cleared)
			if got, want := changes(res), []string{"restock founders_bundle: guid,description,imageUrl,stock,perPlayerLimit,metadata"}; !reflect.DeepEqual(got, want) {
				t.Fatalf("changes %q, want %q", got, want)
			}
			row := e.row("founders_bundle")
			for _, attr := range []string{"guid", "description", "imageUrl", "metadata", "perPlayerLimit", "stock"} {
				if v, ok := row[attr]; ok {
					t.Errorf("attribute %s = %#v left after clearing it", attr, v)
				}
			}
			for _, attr := range []string{"available", "reserved", "sold", "name", "prices", "locked", "active"} {
				if _, ok := row[attr]; !ok {
					t.Errorf("attribute %s removed", attr)
				}
			}
			e.tr.Reset()
			if res := e.importFile(cleared); len(res.Changes) != 0 {
				t.Fatalf("the next import changes %q", changes(res))
			}
			if res := e.importFile(f); len(res.Changes) != 1 || e.product("founders_bundle").GUID == "" {
				t.Fatalf("restoring the fields: %q", changes(res))
			}
		})
	}
}

func TestImportStock(t *testing.T) {
	ctx := context.Background()
	withStock := func(t *testing.T, f catalog.File, id string, stock *int64) catalog.File {
		return edit(t, f, id, func(p *catalog.Product) { p.Stock = stock })
	}
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			ignoresRemove := removeIgnored(t, e) // then stock stays next to unlimited = true
			f := sample(t)
			e.importFile(f)

			// founders_bundle (stock 10): 5 reserved, 2 of them sold, so
			// 3 reserved, 2 sold, available 5.
			if ok, err := reserve(ctx, e.db, e.table, "founders_bundle", "JPY", 4500, 5); !ok || err != nil {
				t.Fatalf("reserve: %v %v", ok, err)
			}
			if err := counters(ctx, e.db, e.table, "founders_bundle", sellExpr, 2); err != nil {
				t.Fatal(err)
			}
			// coins_1000 (unlimited): 4 reserved, 1 released, 2 sold:
			// 1 reserved, 2 sold, available -3 (meaningless).
			if ok, err := reserve(ctx, e.db, e.table, "coins_1000", "USD", 99, 4); !ok || err != nil {
				t.Fatalf("reserve: %v %v", ok, err)
			}
			if err := counters(ctx, e.db, e.table, "coins_1000", releaseExpr, 1); err != nil {
				t.Fatal(err)
			}
			if err := counters(ctx, e.db, e.table, "coins_1000", sellExpr, 2); err != nil {
				t.Fatal(err)
			}

			steps := []struct {
				name      string
				id        string
				stock     *int64
				want      string
				available int64
				version   int64
				calls     []string
			}{
				{"restock 10 → 15 by delta", "founders_bundle", ptr(15), "restock founders_bundle: stock", 15 - 3 - 2, 2, []string{"Scan", "UpdateItem"}},
				{"cut 15 → 4: oversold", "founders_bundle", ptr(4), "restock founders_bundle: stock", 4 - 3 - 2, 3, []string{"Scan", "UpdateItem"}},
				{"limited → unlimited leaves available", "founders_bundle", nil, "restock founders_bundle: stock", 4 - 3 - 2, 4, []string{"Scan", "UpdateItem"}},
				{"unlimited → limited from the counters", "coins_1000", ptr(20), "restock coins_1000: stock", 20 - 1 - 2, 2, []string{"Scan", "UpdateItem"}},
			}
			file := f
			for _, st := range steps {
				file = withStock(t, file, st.id, st.stock)
				e.tr.Reset()
				res := e.importFile(file)
				if got := changes(res); !reflect.DeepEqual(got, []string{st.want}) {
					t.Fatalf("%s: changes %q, want %q", st.name, got, st.want)
				}
				if calls := e.tr.Calls(); !reflect.DeepEqual(calls, st.calls) {
					t.Fatalf("%s: calls %v, want %v", st.name, calls, st.calls)
				}
				p := e.product(st.id)
				if p.Available != st.available || p.Version != st.version || !equalPtr(p.Stock, st.stock) {
					t.Fatalf("%s: available %d, version %d, stock %v; want %d, %d, %v", st.name, p.Available, p.Version, p.Stock, st.available, st.version, st.stock)
				}
				row := e.row(st.id)
				_, hasStock := row["stock"]
				if unl := row["unlimited"].(*types.AttributeValueMemberBOOL).Value; unl != (st.stock == nil) || (hasStock == (st.stock == nil) && !ignoresRemove) {
					t.Fatalf("%s: unlimited %v, stock present %v", st.name, unl, hasStock)
				}
			}
			if rem, limited := e.product("coins_1000").Remaining(); rem != 17 || !limited {
				t.Fatalf("coins_1000 Remaining() = %d, %v", rem, limited)
			}
			// Purchases see the limits the import set.
			if ok, _ := reserve(ctx, e.db, e.table, "coins_1000", "USD", 99, 18); ok {
				t.Fatal("reserved 18 of 17 remaining")
			}
			if ok, _ := reserve(ctx, e.db, e.table, "coins_1000", "USD", 99, 17); !ok {
				t.Fatal("could not reserve the 17 remaining")
			}
		})
	}
}

func equalPtr(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// A purchase or another import writes the row between the import's read and
// its write: the write's condition fails, the import reads the row again and
// gets it right.
func TestImportConcurrentWrite(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		id        string
		stock     *int64
		meanwhile func(t *testing.T, e *env)
		available int64
		want      string
		calls     []string
	}{
		{"purchase during unlimited → limited", "coins_1000", ptr(50), func(t *testing.T, e *env) {
			if ok, err := reserve(ctx, e.other(t), e.table, "coins_1000", "USD", 99, 3); !ok || err != nil {
				t.Errorf("reserve: %v %v", ok, err)
			}
		}, 50 - 3, "restock coins_1000: stock", []string{"Scan", "UpdateItem", "GetItem", "UpdateItem"}},
		{"purchase during restock: the delta needs no retry", "founders_bundle", ptr(12), func(t *testing.T, e *env) {
			if ok, err := reserve(ctx, e.other(t), e.table, "founders_bundle", "USD", 2999, 4); !ok || err != nil {
				t.Errorf("reserve: %v %v", ok, err)
			}
		}, 12 - 4, "restock founders_bundle: stock", []string{"Scan", "UpdateItem"}},
		{"another import restocks first", "founders_bundle", ptr(30), func(t *testing.T, e *env) {
			f := edit(t, sample(t), "founders_bundle", func(p *catalog.Product) { p.Stock = ptr(20) })
			if _, err := catalog.Import(ctx, e.other(t), e.table, f); err != nil {
				t.Error(err)
			}
		}, 30, "restock founders_bundle: stock", []string{"Scan", "UpdateItem", "GetItem", "UpdateItem"}},
		{"another import makes the same change first", "founders_bundle", ptr(20), func(t *testing.T, e *env) {
			f := edit(t, sample(t), "founders_bundle", func(p *catalog.Product) { p.Stock = ptr(20) })
			if _, err := catalog.Import(ctx, e.other(t), e.table, f); err != nil {
				t.Error(err)
			}
		}, 20, "", []string{"Scan", "UpdateItem", "GetItem"}},
	}
	for _, b := range ddbtest.Backends(t) {
		for _, c := range cases {
			t.Run(b.Name+"/"+c.name, func(t *testing.T) {
				e := newEnv(t, b, ddbtest.StackOptions{})
				f := sample(t)
				e.importFile(f)
				fired := false
				e.tr.Reset()
				e.tr.Inject(func(_ int, op string) ddbtest.Fault {
					if op == "UpdateItem" && !fired {
						fired = true
						c.meanwhile(t, e)
					}
					return ddbtest.NoFault
				})
				res := e.importFile(edit(t, f, c.id, func(p *catalog.Product) { p.Stock = c.stock }))
				e.tr.Inject(nil)
				var want []string
				if c.want != "" {
					want = []string{c.want}
				}
				if got := changes(res); !reflect.DeepEqual(got, want) {
					t.Fatalf("changes %q, want %q", got, want)
				}
				if calls := e.tr.Calls(); !reflect.DeepEqual(calls, c.calls) {
					t.Fatalf("calls %v, want %v", calls, c.calls)
				}
				p := e.product(c.id)
				if p.Available != c.available || *p.Stock != *c.stock || p.Unlimited() {
					t.Fatalf("%+v: want available %d of stock %d", p, c.available, *c.stock)
				}
			})
		}
	}
}

// A row that changes under every attempt: the import gives up after 8
// attempts, says so, and leaves the row as the other writer made it.
func TestImportGivesUpOnARowThatKeepsChanging(t *testing.T) {
	ctx := context.Background()
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			f := sample(t)
			e.importFile(f)
			other := e.other(t)
			bumps := 0
			e.tr.Reset()
			e.tr.Inject(func(_ int, op string) ddbtest.Fault {
				if op != "UpdateItem" {
					return ddbtest.NoFault
				}
				// Another writer moves the version before each write.
				_, err := other.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName:                 &e.table,
					Key:                       map[string]types.AttributeValue{dynamo.AttrPK: &types.AttributeValueMemberS{Value: "founders_bundle"}},
					UpdateExpression:          aws.String("ADD version :one"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)},
				})
				if err != nil {
					t.Error(err)
				}
				bumps++
				return ddbtest.NoFault
			})
			_, err := catalog.Import(ctx, e.db, e.table, edit(t, f, "founders_bundle", func(p *catalog.Product) { p.Stock = ptr(11) }))
			e.tr.Inject(nil)
			var failed *types.ConditionalCheckFailedException
			if want := "import founders_bundle (restock): the row changed under every one of 8 attempts: "; err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &failed) {
				t.Fatalf("err = %v, want %q... wrapping a ConditionalCheckFailedException", err, want)
			}
			want := []string{"Scan", "UpdateItem"}
			for range 7 {
				want = append(want, "GetItem", "UpdateItem")
			}
			if calls := e.tr.Calls(); !reflect.DeepEqual(calls, want) {
				t.Fatalf("calls %v, want %v", calls, want)
			}
			if p := e.product("founders_bundle"); bumps != 8 || p.Version != 1+8 || *p.Stock != 10 || p.Available != 10 {
				t.Fatalf("after %d bumps: version %d, stock %d, available %d; want 9, 10, 10", bumps, p.Version, *p.Stock, p.Available)
			}
		})
	}
}

// other returns a second client of the same endpoint, outside the call
// counting transport (whose fault callback must not call back into it).
func (e *env) other(t *testing.T) *dynamodb.Client {
	t.Helper()
	db, err := dynamo.NewClient(context.Background(), dynamo.ClientOptions{Endpoint: e.stack.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestImportDeactivateReactivate(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			f := sample(t)
			e.importFile(f)
			steps := []struct {
				name      string
				file      catalog.File
				want      []string
				active    bool
				version   int64
				unchanged int
			}{
				{"removed", without(f, "energy_refill", "coins_1000"), []string{"deactivate coins_1000", "deactivate energy_refill"}, false, 2, len(f.Products) - 2},
				{"still removed", without(f, "energy_refill", "coins_1000"), nil, false, 2, len(f.Products) - 2},
				{"back", without(f, "coins_1000"), []string{"reactivate energy_refill"}, true, 3, len(f.Products) - 2},
				{"back with changes", edit(t, without(f, "energy_refill"), "coins_1000", func(p *catalog.Product) { p.Locked = true }),
					[]string{"reactivate coins_1000: locked", "deactivate energy_refill"}, false, 4, len(f.Products) - 2},
			}
			for _, st := range steps {
				res := e.importFile(st.file)
				if got := changes(res); !reflect.DeepEqual(got, st.want) {
					t.Fatalf("%s: changes %q, want %q", st.name, got, st.want)
				}
				if res.Unchanged != st.unchanged {
					t.Fatalf("%s: %d unchanged, want %d", st.name, res.Unchanged, st.unchanged)
				}
				p := e.product("energy_refill")
				if p.Active != st.active || p.Version != st.version || p.Name != "Energy Refill" {
					t.Fatalf("%s: energy_refill %+v, want active %v version %d, definition kept", st.name, p, st.active, st.version)
				}
			}
			for _, c := range e.importFile(f).Changes {
				if c.Kind == catalog.KindReactivate && !slices.Contains(c.Fields, "active") {
					t.Fatalf("reactivation without the active field: %+v", c)
				}
			}
			if p := e.product("coins_1000"); !p.Active || p.Locked {
				t.Fatalf("coins_1000 after the sample again: %+v", p)
			}
			// A purchase of a deactivated product fails its condition.
			e.importFile(without(f, "energy_refill"))
			if ok, err := reserve(context.Background(), e.db, e.table, "energy_refill", "USD", 49, 1); ok || err != nil {
				t.Fatalf("reserved a deactivated product: %v %v", ok, err)
			}
		})
	}
}

func TestDiffMatchesImport(t *testing.T) {
	ctx := context.Background()
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			f := sample(t)

			// Against an empty table: every product is a create.
			e.tr.Reset()
			diff, err := catalog.Diff(ctx, e.db, e.table, f)
			if err != nil {
				t.Fatal(err)
			}
			if calls := e.tr.Calls(); !reflect.DeepEqual(calls, []string{"Scan"}) {
				t.Fatalf("Diff made calls %v", calls)
			}
			if got := diff.Count(catalog.KindCreate); got != len(f.Products) {
				t.Fatalf("Diff on an empty table: %d creates, want %d", got, len(f.Products))
			}
			if imp := e.importFile(f); !reflect.DeepEqual(diff, imp) {
				t.Fatalf("Diff %+v\nImport %+v", diff, imp)
			}
			e.importFile(without(f, "gem_pack_huge"))

			// Every kind of change at once.
			next := edit(t, f, "gem_pack_small", func(p *catalog.Product) { p.Prices["EUR"] = 199 })
			next = edit(t, next, "founders_bundle", func(p *catalog.Product) { p.Stock = ptr(25); p.Name = "Founder's Bundle II" })
			next = edit(t, next, "winter_festival_skin", func(p *catalog.Product) { p.Locked = false })
			next = without(next, "energy_refill")
			next.Products = append(next.Products, catalog.Product{ProductID: "spring_skin", Name: "Bloom Skin", Prices: map[string]int64{"USD": 599}})
			want := []string{
				"update gem_pack_small: prices",
				"reactivate gem_pack_huge",
				"restock founders_bundle: name,stock",
				"update winter_festival_skin: locked",
				"create spring_skin",
				"deactivate energy_refill",
			}
			e.tr.Reset()
			diff, err = catalog.Diff(ctx, e.db, e.table, next)
			if err != nil {
				t.Fatal(err)
			}
			if calls := e.tr.Calls(); !reflect.DeepEqual(calls, []string{"Scan"}) {
				t.Fatalf("Diff made calls %v", calls)
			}
			if got := changes(diff); !reflect.DeepEqual(got, want) {
				t.Fatalf("Diff changes:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if p := e.product("founders_bundle"); *p.Stock != 10 || p.Name != "Founder's Bundle" {
				t.Fatalf("Diff wrote: %+v", p)
			}
			imp := e.importFile(next)
			if !reflect.DeepEqual(diff, imp) {
				t.Fatalf("Diff %+v\nImport %+v", diff, imp)
			}
			if got, want := imp.Summary(), "create 1, update 2, restock 1, deactivate 1, reactivate 1, unchanged 5"; got != want {
				t.Fatalf("summary %q, want %q", got, want)
			}
			if after, err := catalog.Diff(ctx, e.db, e.table, next); err != nil || len(after.Changes) != 0 {
				t.Fatalf("Diff after the import: %+v, %v", after, err)
			}
		})
	}
}

func TestImportRejectsInvalidFile(t *testing.T) {
	e := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{})
	cases := []struct {
		name string
		file catalog.File
		want string
	}{
		{"empty", catalog.File{}, "products: must list at least one product"},
		{"duplicate", catalog.File{Products: []catalog.Product{
			{ProductID: "a", Name: "A", Prices: map[string]int64{"USD": 1}},
			{ProductID: "a", Name: "A", Prices: map[string]int64{"USD": 1}},
		}}, `products[1].productId: duplicate productId "a"`},
		{"bad currency", catalog.File{Products: []catalog.Product{{ProductID: "a", Name: "A", Prices: map[string]int64{"usd": 1}}}},
			"products[0].prices.usd: currency must be 3 upper-case letters"},
	}
	for _, c := range cases {
		for name, fn := range map[string]func(context.Context, *dynamodb.Client, string, catalog.File) (catalog.ImportResult, error){"Import": catalog.Import, "Diff": catalog.Diff} {
			_, err := fn(context.Background(), e.db, e.table, c.file)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %s: err = %v, want %q", name, c.name, err, c.want)
			}
		}
	}
	if calls := e.tr.Calls(); len(calls) != 0 {
		t.Fatalf("an invalid file reached DynamoDB: %v", calls)
	}
}
