package functions_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
)

// Template ids of the purchase that stored records copy: every copy has
// ids of the same length, so keys built with dynamo.Tuple stay well formed.
const (
	tplPlayer = "player-000000"
	tplTx     = "txn-000000"
)

// benchTx numbers the benchmark's transactions: each authorization is new,
// however often the benchmark runs (-count).
var benchTx atomic.Int64

// BenchmarkEmbeddedScale measures an authorization (2 items, a new
// transactionId each) and an inventory read through the local router, the
// real aws-sdk-go-v2 client and the embedded DynamoDB (in process), with N
// purchases stored beforehand, each by its own player (its purchase record
// and the player's rows). The cost per request should not depend on N; a
// read of a partition that has gone cold costs more (inventory-spread).
func BenchmarkEmbeddedScale(b *testing.B) {
	for _, n := range []int{0, 10, 10_000, 100_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			router := scaleStack(b, n)
			b.Run("authorize", func(b *testing.B) {
				parallel(b, func() *http.Request {
					i := benchTx.Add(1)
					body := fmt.Sprintf(`{"transactionId":"bench-%d","items":[{"id":"gem_pack_small","quantity":1},{"id":"coins_1000","quantity":2}]}`, i)
					req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/purchase/player-%06d", i%1000), strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("x-api-key", "k")
					return req
				}, router)
			})
			// A player's inventory: 100 players read in turn, so their
			// partitions stay hot (the engine keeps the partitions used last
			// as minidyn tables).
			b.Run("inventory", func(b *testing.B) {
				parallel(b, func() *http.Request { return inventoryRequest(benchTx.Add(1) % int64(min(max(n, 1), 100))) }, router)
			})
			// Every stored player in turn: beyond embeddeddb.HotPartitions
			// players, each read finds its partition cold (encoded) and makes
			// it a minidyn table again.
			b.Run("inventory-spread", func(b *testing.B) {
				parallel(b, func() *http.Request { return inventoryRequest(benchTx.Add(1) % int64(max(n, 1))) }, router)
			})
		})
	}
}

func inventoryRequest(player int64) *http.Request {
	req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/api/v1/players/player-%06d/inventory", player), nil)
	req.Header.Set("Authorization", "Bearer "+flowGame)
	return req
}

// parallel serves the requests next makes from 4 goroutines per core (8
// on 2 cores, as the 8 clients of make load -clients 8), with the garbage
// collector paced as cmd/local paces it: ns/op is the inverse of the
// throughput.
func parallel(b *testing.B, next func() *http.Request, h http.Handler) {
	ctx, stop := context.WithCancel(context.Background())
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer stop()
	localenv.PaceGC(ctx, localenv.GCHeadroom)
	b.ReportAllocs()
	b.SetParallelism(4)
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, h, next())
		}
	})
}

// reportCPU reports the process's CPU time (user and system, garbage
// collector included) per operation as cpu-ns/op: on a machine shared with
// other work it varies less than the wall time.
func reportCPU(b *testing.B) func() {
	start, gcStart := cpuTime(), gcTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(gcTime()-gcStart)/float64(b.N), "gc-ns/op")
		}
	}
}

// gcTime is the CPU time the garbage collector has taken (an estimate of
// the runtime's).
func gcTime() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func serve(b *testing.B, h http.Handler, req *http.Request) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", req.Method, req.URL, rec.Code, rec.Body)
	}
}

// scaleStack starts a stack on the embedded engine with n purchases stored:
// one authorization of the template player is made through the router, and
// its rows are copied n times, with the ids replaced, straight into the
// engine.
func scaleStack(b *testing.B, n int) http.Handler {
	b.Helper()
	env := map[string]string{"GAME_SERVER_KEY": flowGame, "STASH_API_KEY": "k", "CATALOG_CACHE_TTL": "1h"}
	stack, err := localenv.Start(context.Background(), localenv.Config{
		Getenv:  func(k string) string { return env[k] },
		Logger:  deps.NewLogger(io.Discard, "info"),
		Catalog: []byte(benchCatalog),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stack.Close)
	router, err := stack.Router(functions.Constructors)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/purchase/"+tplPlayer,
		strings.NewReader(`{"transactionId":"`+tplTx+`","items":[{"id":"gem_pack_small","quantity":1},{"id":"coins_1000","quantity":2}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", "k")
	serve(b, router, req)

	ids := func(i int) *strings.Replacer {
		return strings.NewReplacer(tplPlayer, fmt.Sprintf("player-%06d", i), tplTx, fmt.Sprintf("txn-%06d", i))
	}
	if err := stack.Replicate(context.Background(), n, ids, "PlayersTable", "TransactionsTable"); err != nil {
		b.Fatal(err)
	}
	runtime.GC() // the loading's garbage is not the benchmark's
	return router
}
