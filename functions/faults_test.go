package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
)

// snapshot is every row of every table, minus wall-clock attributes, as
// sorted JSON lines: two stores in the same state have equal snapshots.
func (f *flow) snapshot() string {
	f.t.Helper()
	var lines []string
	for _, table := range []string{"CatalogTable", "PlayersTable", "TransactionsTable"} {
		out, err := f.stack.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.stack.TableName(table)), ConsistentRead: aws.Bool(true)})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, item := range out.Items {
			lines = append(lines, table+" "+render(item))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func render(item map[string]types.AttributeValue) string {
	m := map[string]any{}
	for k, v := range item {
		if k == "updatedAt" || k == "version" {
			continue // written by the catalog import with the wall clock
		}
		m[k] = plain(v)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func plain(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberB:
		return "B:" + string(v.Value)
	case *types.AttributeValueMemberBOOL:
		return v.Value
	case *types.AttributeValueMemberM:
		m := map[string]any{}
		for k, x := range v.Value {
			m[k] = plain(x)
		}
		return m
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, x := range v.Value {
			l[i] = plain(x)
		}
		return l
	}
	return fmt.Sprintf("%T", v)
}

type faultScenario struct {
	name  string
	setup func(f *flow)
	act   func(f *flow) (int, string)
	want  int // status of the fault-free answer
	check string
}

var faultScenarios = []faultScenario{
	{
		name:  "register",
		setup: func(f *flow) {},
		act: func(f *flow) (int, string) {
			return f.post("/api/v1/purchase/register", registerBody("f-1", "lee", "bundle", 999, 2, "starter", 99, 1))
		},
		want: 200, check: "SUCCESS_REGISTERED",
	},
	{
		name:  "register rejected",
		setup: func(f *flow) { f.register("f-0", "lee", "bundle", 999, 9) },
		act: func(f *flow) (int, string) {
			return f.post("/api/v1/purchase/register", registerBody("f-1", "lee", "bundle", 999, 2))
		},
		want: 200, check: "FAILED_INSUFFICIENT_INVENTORY",
	},
	{
		name:  "confirm",
		setup: func(f *flow) { f.register("f-1", "lee", "bundle", 999, 2, "starter", 99, 1) },
		act: func(f *flow) (int, string) {
			return f.confirm("f-1", "lee", `,"bonusItems":[{"id":"coin","quantity":5}]`, "bundle", 999, 2, "starter", 99, 1)
		},
		want: 200, check: `"results"`,
	},
	{
		name:  "confirm without registration",
		setup: func(f *flow) {},
		act:   func(f *flow) (int, string) { return f.confirm("f-1", "lee", "", "bundle", 999, 2, "starter", 99, 1) },
		want:  200, check: `"results"`,
	},
	{
		name:  "cancel",
		setup: func(f *flow) { f.register("f-1", "lee", "bundle", 999, 2, "starter", 99, 1) },
		act: func(f *flow) (int, string) {
			return f.post("/api/v1/purchase/cancel", itemsBody("cancel", "f-1", "lee", "", "bundle", 999, 2, "starter", 99, 1))
		},
		want: 200, check: "SUCCESS_CANCELLED",
	},
	{
		name:  "cancel with other items",
		setup: func(f *flow) { f.register("f-1", "lee", "bundle", 999, 2, "starter", 99, 1) },
		act: func(f *flow) (int, string) {
			return f.post("/api/v1/purchase/cancel", itemsBody("cancel", "f-1", "lee", "", "bundle", 999, 1))
		},
		want: 200, check: "SUCCESS_CANCELLED",
	},
}

// For every flow, every DynamoDB call it makes and every kind of failure:
// the answer is a clean 503, the store holds no partial state (either
// nothing happened or all of it did), and Stash's retry converges on
// exactly the state of a run without faults.
func TestFaultSweep(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			for _, sc := range faultScenarios {
				t.Run(sc.name, func(t *testing.T) {
					ref := newFlow(t, b, 1)
					sc.setup(ref)
					before := ref.snapshot()
					ref.tr.Reset()
					code, body := sc.act(ref)
					if code != sc.want || !strings.Contains(body, sc.check) {
						t.Fatalf("fault-free run: %d %s", code, body)
					}
					calls := len(ref.tr.Calls())
					after := ref.snapshot()
					for n := 1; n <= calls; n++ {
						for _, fault := range ddbtest.AllFaults {
							t.Run(fmt.Sprintf("call %d %s", n, fault), func(t *testing.T) {
								f := newFlow(t, b, 1)
								sc.setup(f)
								f.tr.Reset()
								f.tr.Inject(func(call int, op string) ddbtest.Fault {
									if call == n {
										return fault
									}
									return ddbtest.NoFault
								})
								code, body := sc.act(f)
								f.tr.Inject(nil)
								if code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":14`) {
									t.Fatalf("with call %d failing: %d %s, want 503 code 14", n, code, body)
								}
								if got := f.snapshot(); got != before && got != after {
									t.Fatalf("partial state after the failure:\n%s\nwant either\n%s\nor\n%s", got, before, after)
								}
								code, body = sc.act(f)
								if code != sc.want || !strings.Contains(body, sc.check) {
									t.Fatalf("retry: %d %s", code, body)
								}
								if got := f.snapshot(); got != after {
									t.Fatalf("retry did not converge:\n%s\nwant\n%s", got, after)
								}
							})
						}
					}
				})
			}
		})
	}
}

// The sweep under faults: a failed run releases all of a reservation or
// none, and the next run finishes the job. Every call of a sweep (the
// index queries and the release transactions) fails once in turn.
func TestSweepFaults(t *testing.T) {
	setup := func(t *testing.T, b ddbtest.Backend) (*flow, func(context.Context) error) {
		f := newFlow(t, b, 1)
		f.register("s-1", "max", "bundle", 999, 2)
		f.register("s-2", "max", "starter", 99, 1)
		f.clock.Advance(31 * 60e9)
		sweep, err := f.stack.Job("SweeperFunction", functions.Jobs)
		if err != nil {
			t.Fatal(err)
		}
		return f, sweep
	}
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			ref, sweep := setup(t, b)
			ref.tr.Reset()
			if err := sweep(context.Background()); err != nil {
				t.Fatal(err)
			}
			calls := ref.tr.Calls()
			for n := 1; n <= len(calls); n++ {
				for _, fault := range ddbtest.AllFaults {
					t.Run(fmt.Sprintf("call %d %s %s", n, calls[n-1], fault), func(t *testing.T) {
						f, sweep := setup(t, b)
						f.tr.Reset()
						f.tr.Inject(func(call int, op string) ddbtest.Fault {
							if call == n {
								return fault
							}
							return ddbtest.NoFault
						})
						_ = sweep(context.Background()) // may fail: that is the point
						f.tr.Inject(nil)
						p := f.stock("bundle")
						if p.Available+p.Reserved != 10 || (p.Reserved != 0 && p.Reserved != 2) {
							t.Fatalf("partial release: available %d reserved %d", p.Available, p.Reserved)
						}
						if err := sweep(context.Background()); err != nil {
							t.Fatal(err)
						}
						f.assertStock("bundle", 10, 0, 0)
						if got := fmt.Sprint(statusesOf(f.register("s-3", "max", "starter", 99, 1))); got != "[SUCCESS_REGISTERED]" {
							t.Fatalf("the per-player count was not released: %s", got)
						}
					})
				}
			}
		})
	}
}
