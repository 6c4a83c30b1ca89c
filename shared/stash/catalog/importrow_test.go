package catalog

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest/txitem"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))

const testStamp = `"2026-01-02T02:04:05.000000006Z"`

func i64(v int64) *int64 { return &v }

// The expressions of representative plans, placeholders resolved. They run
// against an emulator in import_test.go; this pins what is sent.
func TestPlanExpressions(t *testing.T) {
	base := Product{ProductID: "p", Name: "Gems", Description: "100 gems.", Prices: map[string]int64{"USD": 199}, Active: true, Version: 3}
	with := func(fn func(p *Product)) *Product {
		p := base
		p.Prices = maps.Clone(base.Prices)
		fn(&p)
		return &p
	}
	tests := []struct {
		name       string
		want, have *Product // want nil: the product left the file
		change     string   // "": no write
		update     string
		cond       string
	}{
		{
			name: "unchanged",
			want: with(func(p *Product) { p.Stock = i64(10) }), have: with(func(p *Product) { p.Stock = i64(10) }),
		},
		{
			name: "create",
			want: &base, have: nil,
			change: "create p",
			cond:   "attribute_not_exists (pk)",
		},
		{
			name:   "rename and restock limited → limited by delta",
			want:   with(func(p *Product) { p.Name = "Bag"; p.Stock = i64(15) }),
			have:   with(func(p *Product) { p.Stock = i64(10); p.Available, p.Reserved, p.Sold = 4, 1, 5 }),
			change: "restock p: name,stock",
			update: "ADD available 5\nSET name = \"Bag\", stock = 15, version = if_not_exists(version, 0) + 1, updatedAt = " + testStamp + "\n",
			cond:   "(stock = 10) AND (attribute_exists (pk)) AND (version = 3)",
		},
		{
			name:   "unlimited → limited from the counters, row without a version",
			want:   with(func(p *Product) { p.Stock = i64(20) }),
			have:   with(func(p *Product) { p.Reserved, p.Sold, p.Version = 2, 3, 0 }),
			change: "restock p: stock",
			update: "SET stock = 20, unlimited = false, available = 15, version = if_not_exists(version, 0) + 1, updatedAt = " + testStamp + "\n",
			cond:   "(reserved = 2) AND (sold = 3) AND (unlimited = true) AND (attribute_exists (pk)) AND (attribute_not_exists (version))",
		},
		{
			name: "limited → unlimited, cleared fields, prices, reactivated",
			want: with(func(p *Product) { p.Description = ""; p.Prices["EUR"] = 189 }),
			have: with(func(p *Product) {
				p.Stock, p.PerPlayerLimit, p.Metadata, p.Active = i64(10), i64(1), map[string]string{"gems": "100"}, false
			}),
			change: "reactivate p: description,prices,stock,perPlayerLimit,metadata",
			update: "REMOVE description, stock, perPlayerLimit, metadata\nSET prices = {EUR=189, USD=199}, unlimited = true, active = true, version = if_not_exists(version, 0) + 1, updatedAt = " + testStamp + "\n",
			cond:   "(stock = 10) AND (attribute_exists (pk)) AND (version = 3)",
		},
		{
			name: "lock, limit, metadata",
			want: with(func(p *Product) {
				p.Locked, p.PerPlayerLimit, p.Metadata = true, i64(2), map[string]string{"gems": "120"}
			}),
			have:   &base,
			change: "update p: perPlayerLimit,locked,metadata",
			update: "SET perPlayerLimit = 2, locked = true, metadata = {gems=\"120\"}, version = if_not_exists(version, 0) + 1, updatedAt = " + testStamp + "\n",
			cond:   "(attribute_exists (pk)) AND (version = 3)",
		},
		{
			name: "deactivate",
			want: nil, have: &base,
			change: "deactivate p",
			update: "SET active = false, version = if_not_exists(version, 0) + 1, updatedAt = " + testStamp + "\n",
			cond:   "(active = true) AND (attribute_exists (pk)) AND (version = 3)",
		},
		{
			name: "already inactive",
			want: nil, have: with(func(p *Product) { p.Active = false }),
		},
	}
	im := importer{table: "T", now: testNow}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o *op
			var err error
			if tt.want == nil {
				o, err = im.planRemoval(tt.have)
			} else {
				o, err = im.planProduct(*tt.want, tt.have)
			}
			if err != nil {
				t.Fatal(err)
			}
			if o == nil || tt.change == "" {
				if o != nil || tt.change != "" {
					t.Fatalf("planned %+v, want change %q", o, tt.change)
				}
				return
			}
			if got := o.change.String(); got != tt.change {
				t.Errorf("change %q, want %q", got, tt.change)
			}
			var update, cond string
			var names map[string]string
			var values map[string]types.AttributeValue
			if o.put != nil {
				cond, names, values = deref(o.put.ConditionExpression), o.put.ExpressionAttributeNames, o.put.ExpressionAttributeValues
				if *o.put.TableName != "T" || o.put.Item == nil {
					t.Errorf("put %+v", o.put)
				}
			} else {
				update, cond = deref(o.update.UpdateExpression), deref(o.update.ConditionExpression)
				names, values = o.update.ExpressionAttributeNames, o.update.ExpressionAttributeValues
				if *o.update.TableName != "T" || !reflect.DeepEqual(o.update.Key, key(tt.have.ProductID)) {
					t.Errorf("update of table %s, key %v", *o.update.TableName, o.update.Key)
				}
			}
			checkPlaceholders(t, []string{update, cond}, names, values)
			if got := resolve(update, names, values); got != tt.update {
				t.Errorf("update\n %q\nwant\n %q", got, tt.update)
			}
			if got := resolve(cond, names, values); got != tt.cond {
				t.Errorf("condition\n %q\nwant\n %q", got, tt.cond)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var (
	placeholder = regexp.MustCompile(`[#:][0-9]+`)
	// What an expression may spell out besides placeholders.
	keywords = regexp.MustCompile(`\b(SET|ADD|REMOVE|AND|attribute_exists|attribute_not_exists|if_not_exists)\b`)
)

// checkPlaceholders checks that the expressions name every attribute through
// a placeholder ("name" is a reserved word) and use every placeholder
// defined (DynamoDB rejects unused ones).
func checkPlaceholders(t *testing.T, exprs []string, names map[string]string, values map[string]types.AttributeValue) {
	t.Helper()
	all := strings.Join(exprs, "\n")
	if rest := keywords.ReplaceAllString(placeholder.ReplaceAllString(all, ""), ""); strings.ContainsFunc(rest, func(r rune) bool {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}) {
		t.Errorf("an attribute without a placeholder in %q", all)
	}
	used := map[string]bool{}
	for _, p := range placeholder.FindAllString(all, -1) {
		used[p] = true
	}
	for _, p := range slices.Concat(slices.Collect(maps.Keys(names)), slices.Collect(maps.Keys(values))) {
		if !used[p] {
			t.Errorf("placeholder %s unused in %q", p, all)
		}
	}
}

// resolve writes the placeholders of expr out: names bare, values as
// literals (strings quoted, maps sorted by key).
func resolve(expr string, names map[string]string, values map[string]types.AttributeValue) string {
	return placeholder.ReplaceAllStringFunc(expr, func(p string) string {
		if p[0] == '#' {
			return names[p]
		}
		return txitem.Format(values[p])
	})
}

func TestNewRow(t *testing.T) {
	S := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	N := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	B := func(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }
	M := func(kv ...any) types.AttributeValue {
		m := map[string]types.AttributeValue{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(types.AttributeValue) //nolint:gosec // G602: pairs; an odd list panics, failing the test
		}
		return &types.AttributeValueMemberM{Value: m}
	}
	stamp := S(strings.Trim(testStamp, `"`))
	tests := []struct {
		name string
		p    Product
		want map[string]types.AttributeValue
	}{
		{
			name: "every field, limited",
			p: Product{
				ProductID: "gems", GUID: "g-1", Name: "Gems", Description: "100 gems.", ImageURL: "https://x/y.png",
				Prices: map[string]int64{"USD": 199, "JPY": 300}, Stock: i64(500), PerPlayerLimit: i64(1), Locked: true,
				Metadata: map[string]string{"gems": "100"},
			},
			want: map[string]types.AttributeValue{
				"pk": S("gems"), "productId": S("gems"), "guid": S("g-1"), "name": S("Gems"), "description": S("100 gems."),
				"imageUrl": S("https://x/y.png"), "prices": M("USD", N("199"), "JPY", N("300")), "metadata": M("gems", S("100")),
				"unlimited": B(false), "stock": N("500"), "available": N("500"), "reserved": N("0"), "sold": N("0"),
				"perPlayerLimit": N("1"), "locked": B(true), "active": B(true), "version": N("1"), "updatedAt": stamp,
			},
		},
		{
			name: "required fields only, unlimited",
			p:    Product{ProductID: "coins", Name: "Coins", Prices: map[string]int64{"USD": 99}, Metadata: map[string]string{}},
			want: map[string]types.AttributeValue{
				"pk": S("coins"), "productId": S("coins"), "name": S("Coins"), "prices": M("USD", N("99")),
				"unlimited": B(true), "available": N("0"), "reserved": N("0"), "sold": N("0"),
				"locked": B(false), "active": B(true), "version": N("1"), "updatedAt": stamp,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newRow(tt.p, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("row\n%v\nwant\n%v", txitem.Format(&types.AttributeValueMemberM{Value: got}), txitem.Format(&types.AttributeValueMemberM{Value: tt.want}))
			}
		})
	}
}
