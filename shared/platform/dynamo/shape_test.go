package dynamo_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// TestShapeFillsLikeBuild: a filled shape is what building the same
// expression with the same values gives, whatever the values (equal ones
// included), for updates, conditions, key conditions and projections.
func TestShapeFillsLikeBuild(t *testing.T) {
	type builder = func(v func(int) expression.ValueBuilder) expression.Builder
	shapes := []struct {
		name  string
		n     int
		build builder
	}{
		{"set and add", 3, func(v func(int) expression.ValueBuilder) expression.Builder {
			return expression.NewBuilder().WithUpdate(expression.Set(expression.Name("productId"), v(0)).
				Set(expression.Name("updatedAt"), v(1)).Add(expression.Name("quantity"), v(2)))
		}},
		{"update with a condition", 3, func(v func(int) expression.ValueBuilder) expression.Builder {
			return expression.NewBuilder().
				WithUpdate(expression.Add(expression.Name("reserved"), v(0)).Add(expression.Name("sold"), v(1)).Remove(expression.Name("x"))).
				WithCondition(expression.And(dynamo.Exists(), expression.Name("reserved").GreaterThanEqual(v(2))))
		}},
		{"slots used out of order", 2, func(v func(int) expression.ValueBuilder) expression.Builder {
			return expression.NewBuilder().WithCondition(expression.Or(expression.Name("a").Equal(v(1)), expression.Name("b").LessThan(v(0))))
		}},
		{"key condition and projection", 1, func(v func(int) expression.ValueBuilder) expression.Builder {
			return expression.NewBuilder().
				WithKeyCondition(expression.KeyAnd(expression.Key("pk").Equal(v(0)), expression.KeyBeginsWith(expression.Key("sk"), "bought#"))).
				WithProjection(expression.NamesList(expression.Name("sk"), expression.Name("bought")))
		}},
		{"no values", 0, func(func(int) expression.ValueBuilder) expression.Builder {
			return expression.NewBuilder().WithCondition(dynamo.NotExists())
		}},
	}
	values := []func(r *rand.Rand) types.AttributeValue{
		func(r *rand.Rand) types.AttributeValue { return dynamo.N(r.Int64N(1000) - 500) },
		func(r *rand.Rand) types.AttributeValue { return dynamo.S(fmt.Sprintf("v%d", r.IntN(3))) },
		func(r *rand.Rand) types.AttributeValue { return dynamo.Bool(r.IntN(2) == 0) },
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			shape := dynamo.NewShape(sh.build)
			for range 50 {
				vals := make([]types.AttributeValue, sh.n)
				for i := range vals {
					vals[i] = values[r.IntN(len(values))](r)
				}
				got := shape.Fill(vals...)
				want := dynamo.Build(sh.build(func(i int) expression.ValueBuilder { return expression.Value(vals[i]) }))
				for _, c := range []struct {
					what      string
					got, want *string
				}{{"condition", got.Condition, want.Condition()}, {"key condition", got.KeyCondition, want.KeyCondition()}, {"update", got.Update, want.Update()}, {"projection", got.Projection, want.Projection()}} {
					if (c.got == nil) != (c.want == nil) || c.got != nil && *c.got != *c.want {
						t.Fatalf("%s: %v, want %v", c.what, deref(c.got), deref(c.want))
					}
				}
				if !reflect.DeepEqual(got.Names, want.Names()) {
					t.Fatalf("names %v, want %v", got.Names, want.Names())
				}
				if !reflect.DeepEqual(got.Values, want.Values()) {
					t.Fatalf("values %v, want %v", got.Values, want.Values())
				}
			}
		})
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// BenchmarkShape compares a grant's update built each time with the same
// update filled into its shape.
func BenchmarkShape(b *testing.B) {
	build := func(v func(int) expression.ValueBuilder) expression.Builder {
		return expression.NewBuilder().WithUpdate(expression.Set(expression.Name("productId"), v(0)).
			Set(expression.Name("updatedAt"), v(1)).Add(expression.Name("quantity"), v(2)))
	}
	vals := []types.AttributeValue{dynamo.S("gem_pack"), dynamo.S("2026-11-30T00:00:00Z"), dynamo.N(2)}
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dynamo.Build(build(func(i int) expression.ValueBuilder { return expression.Value(vals[i]) }))
		}
	})
	b.Run("fill", func(b *testing.B) {
		shape := dynamo.NewShape(build)
		b.ReportAllocs()
		for b.Loop() {
			shape.Fill(vals...)
		}
	})
}
