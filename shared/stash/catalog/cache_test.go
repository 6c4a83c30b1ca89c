package catalog_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/logtest"

	miniserver "github.com/truora/minidyn/server"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// gate holds every Scan request while it is held, until it is opened (or
// the request's context ends), to keep a refresh in flight.
type gate struct {
	entered chan struct{} // receives once per held Scan
	mu      sync.Mutex
	open    chan struct{} // closed while the gate is open
	base    http.RoundTripper
}

// newGate returns an open gate.
func newGate() *gate {
	g := &gate{entered: make(chan struct{}, 100), open: make(chan struct{}), base: bufferedTransport{}}
	close(g.open)
	return g
}

func (g *gate) Hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = make(chan struct{})
}

func (g *gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *gate) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".Scan") {
		g.mu.Lock()
		open := g.open
		g.mu.Unlock()
		select {
		case <-open:
		default:
			g.entered <- struct{}{}
			select {
			case <-open:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
		}
	}
	return g.base.RoundTrip(req)
}

func scans(tr *ddbtest.Transport) int {
	n := 0
	for _, c := range tr.Calls() {
		if c == "Scan" {
			n++
		}
	}
	return n
}

func TestCacheGet(t *testing.T) {
	ctx := context.Background()
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			f := sample(t)
			e.importFile(f)
			clk := newClock()
			// A generous RefreshTimeout: moto is slow under -race on a busy machine.
			cache := catalog.NewCache(e.db, e.table, catalog.CacheOptions{TTL: 30 * time.Second, RefreshTimeout: time.Minute, Now: clk.Now})

			e.tr.Reset()
			first, err := cache.Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if scans(e.tr) != 1 || first.Len() != len(f.Products) || !first.LoadedAt().Equal(clk.Now()) {
				t.Fatalf("cold Get: %d scans, %d products, loaded at %v", scans(e.tr), first.Len(), first.LoadedAt())
			}
			if p, ok := first.ByGUID("0b1c2d3e-4f5a-4b6c-8d7e-8f9a0b1c2d54"); !ok || p.ProductID != "founders_bundle" || p.Available != 10 {
				t.Fatalf("ByGUID: %+v %v", p, ok)
			}

			steps := []struct {
				name    string
				advance time.Duration
				before  func()
				scans   int
				fresh   bool // a new snapshot, not first
			}{
				{"warm", 0, nil, 0, false},
				{"just before expiry", 30*time.Second - time.Nanosecond, nil, 0, false},
				{"expired", time.Nanosecond, nil, 1, true},
				{"warm again", 10 * time.Second, nil, 0, false},
				{"invalidated", 0, cache.Invalidate, 1, true},
				{"warm after the invalidation", 0, nil, 0, false},
			}
			prev := first
			for _, st := range steps {
				clk.Advance(st.advance)
				if st.before != nil {
					st.before()
				}
				e.tr.Reset()
				var got *catalog.Catalog
				for range 100 {
					if got, err = cache.Get(ctx); err != nil {
						t.Fatalf("%s: %v", st.name, err)
					}
				}
				if n := scans(e.tr); n != st.scans || len(e.tr.Calls()) != n {
					t.Fatalf("%s: calls %v, want %d Scan", st.name, e.tr.Calls(), st.scans)
				}
				if (got != prev) != st.fresh {
					t.Fatalf("%s: new snapshot %v, want %v", st.name, got != prev, st.fresh)
				}
				prev = got
			}

			// A refresh sees what an import changed.
			e.importFile(edit(t, f, "gem_pack_small", func(p *catalog.Product) { p.Prices["USD"] = 249 }))
			clk.Advance(31 * time.Second)
			got, err := cache.Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := got.ByID("gem_pack_small"); p.Prices["USD"] != 249 || p.Version != 2 {
				t.Fatalf("after the refresh: %+v", p)
			}
		})
	}
}

// Concurrent Gets during a refresh wait for it: one Scan for all.
//
// The Gets run in a synctest bubble, where waiting at the gate or for the
// refresh is durably blocking: synctest.Wait returns once every Get has
// started the refresh or waits for it, so the test sees all of them piled
// up behind the one held Scan instead of sleeping and hoping they are.
func TestCacheSingleFlight(t *testing.T) {
	ctx := context.Background()
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			tr := newTransport()
			e := newEnv(t, b, ddbtest.StackOptions{Transport: tr})
			e.importFile(sample(t))

			synctest.Test(t, func(t *testing.T) {
				// The gate's channels and the HTTP connections are made in the
				// bubble, so that waiting on them counts as durably blocked and
				// the connections' goroutines belong to it. Without keep-alive
				// no connection outlives its request, idle on a socket (a
				// read that synctest.Wait would wait for forever).
				hc := http.DefaultTransport.(*http.Transport).Clone()
				hc.DisableKeepAlives = true
				g := newGate()
				g.base = bufferedTransport{base: hc}
				defer g.Open() // a failed check still lets every Get finish
				tr.Base = &http.Client{Transport: g}
				clk := newClock()
				cache := catalog.NewCache(e.db, e.table, catalog.CacheOptions{TTL: time.Minute, RefreshTimeout: time.Minute, Now: clk.Now})

				for round, warm := range []bool{false, true} {
					if warm {
						if _, err := cache.Get(ctx); err != nil {
							t.Fatal(err)
						}
						clk.Advance(time.Hour)
					}
					g.Hold()
					tr.Reset()
					const n = 50
					results := make([]*catalog.Catalog, n)
					errs := make([]error, n)
					var returned atomic.Int32
					var wg sync.WaitGroup
					for i := range n {
						wg.Go(func() {
							results[i], errs[i] = cache.Get(ctx)
							returned.Add(1)
						})
					}
					synctest.Wait() // every Get is in, the refresh is held in its Scan
					if r := returned.Load(); r != 0 {
						t.Fatalf("round %d: %d Gets returned while the refresh was held", round, r)
					}
					if held := len(g.entered); held != 1 {
						t.Fatalf("round %d: %d Scans held at the gate, want 1", round, held)
					}
					<-g.entered
					g.Open()
					wg.Wait()
					for i := range n {
						if errs[i] != nil || results[i] == nil || results[i] != results[0] {
							t.Fatalf("round %d: Get %d = %p, %v; want the one snapshot %p", round, i, results[i], errs[i], results[0])
						}
					}
					if calls := tr.Calls(); len(calls) != 1 || calls[0] != "Scan" {
						t.Fatalf("round %d: %d concurrent Gets made calls %v, want one Scan", round, n, calls)
					}
				}
			})
		})
	}
}

// The table fails: Get keeps serving the last good snapshot, warns, and
// tries again after the back-off.
func TestCacheServesStaleOnFailure(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{MaxAttempts: 1})
	e.importFile(sample(t))
	clk := newClock()
	var logs logtest.Buffer
	cache := catalog.NewCache(e.db, e.table, catalog.CacheOptions{
		TTL: 30 * time.Second, Now: clk.Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	good, err := cache.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fail := func(on bool) {
		if on {
			e.stack.Minidyn.EmulateFailure(miniserver.FailureConditionInternalServerError)
		} else {
			e.stack.Minidyn.EmulateFailure(miniserver.FailureConditionNone)
		}
	}
	steps := []struct {
		name    string
		advance time.Duration
		failing bool
		scans   int
		warns   int  // warnings logged so far
		stale   bool // got the good snapshot
	}{
		{"expired, table failing", 31 * time.Second, true, 1, 1, true},
		{"during the back-off", 2 * time.Second, true, 0, 1, true},
		{"after the back-off (TTL/10 = 3s)", time.Second, true, 1, 2, true},
		{"table back, back-off not over", time.Second, false, 0, 2, true},
		{"table back", 2 * time.Second, false, 1, 2, false},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		fail(st.failing)
		e.tr.Reset()
		got, err := cache.Get(ctx)
		if err != nil {
			t.Fatalf("%s: Get failed although a snapshot exists: %v", st.name, err)
		}
		if scans(e.tr) != st.scans {
			t.Fatalf("%s: calls %v, want %d Scan", st.name, e.tr.Calls(), st.scans)
		}
		if (got == good) != st.stale {
			t.Fatalf("%s: stale snapshot %v, want %v", st.name, got == good, st.stale)
		}
		if n := strings.Count(logs.String(), `"level":"WARN"`); n != st.warns {
			t.Fatalf("%s: %d warnings, want %d:\n%s", st.name, n, st.warns, logs.String())
		}
	}
	line := strings.SplitN(logs.String(), "\n", 2)[0]
	for _, want := range []string{`"msg":"catalog refresh failed; serving the previous snapshot"`, `"table":"` + e.table + `"`, `InternalServerError`, `"snapshotAge":"31s"`} {
		if !strings.Contains(line, want) {
			t.Errorf("warning %s lacks %s", line, want)
		}
	}

	// With no snapshot at all, the error is returned, and every Get tries.
	fail(true)
	defer fail(false)
	cold := catalog.NewCache(e.db, e.table, catalog.CacheOptions{Now: clk.Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	e.tr.Reset()
	for i := range 2 {
		if c, err := cold.Get(ctx); err == nil || c != nil || !strings.Contains(err.Error(), "load catalog: scan catalog table") {
			t.Fatalf("cold Get %d on a failing table: %v, %v", i, c, err)
		}
	}
	if scans(e.tr) != 2 {
		t.Fatalf("calls %v, want a Scan per Get", e.tr.Calls())
	}
}

// A refresh slower than RefreshTimeout counts as a failure.
func TestCacheRefreshTimeout(t *testing.T) {
	ctx := context.Background()
	tr := newTransport()
	g := newGate()
	tr.Base = &http.Client{Transport: g}
	e := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Transport: tr, MaxAttempts: 1})
	e.importFile(sample(t))
	clk := newClock()
	var logs logtest.Buffer
	cache := catalog.NewCache(e.db, e.table, catalog.CacheOptions{
		TTL: 10 * time.Second, RefreshTimeout: 100 * time.Millisecond, Now: clk.Now, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	good, err := cache.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g.Hold()
	defer g.Open()
	clk.Advance(11 * time.Second)
	// The table never answers: Get returns at all only because the
	// refresh timed out (no wall-clock assertion: the log says why).
	got, err := cache.Get(ctx)
	if err != nil || got != good {
		t.Fatalf("Get with a hung table: %p, %v; want the previous snapshot %p", got, err, good)
	}
	if !strings.Contains(logs.String(), "context deadline exceeded") {
		t.Fatalf("no timeout warning: %s", logs.String())
	}

	// A caller whose context ends while it waits gets the previous snapshot.
	clk.Advance(time.Minute)
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if got, err := cache.Get(short); err != nil || got != good {
		t.Fatalf("Get with an ending context: %p, %v", got, err)
	}
}

// An Invalidate during a refresh: the refresh's snapshot may predate the
// change, so the next Get refreshes again.
func TestCacheInvalidateDuringRefresh(t *testing.T) {
	ctx := context.Background()
	tr := newTransport()
	g := newGate()
	tr.Base = &http.Client{Transport: g}
	e := newEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Transport: tr})
	e.importFile(sample(t))
	clk := newClock()
	cache := catalog.NewCache(e.db, e.table, catalog.CacheOptions{RefreshTimeout: time.Minute, Now: clk.Now})

	g.Hold()
	done := make(chan error)
	go func() {
		_, err := cache.Get(ctx)
		done <- err
	}()
	<-g.entered
	cache.Invalidate()
	g.Open()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tr.Reset()
	if _, err := cache.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if scans(tr) != 1 {
		t.Fatalf("calls %v after an Invalidate during the refresh, want a new Scan", tr.Calls())
	}
	tr.Reset()
	if _, err := cache.Get(ctx); err != nil || len(tr.Calls()) != 0 {
		t.Fatalf("then warm: calls %v, %v", tr.Calls(), err)
	}
}

func BenchmarkCacheGetWarm(b *testing.B) {
	e := newEnv(b, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{})
	e.importFile(sample(b))
	cache := catalog.NewCache(e.db, e.table, catalog.CacheOptions{TTL: time.Hour})
	ctx := context.Background()
	if _, err := cache.Get(ctx); err != nil {
		b.Fatal(err)
	}
	e.tr.Reset()
	b.ReportAllocs()
	for b.Loop() {
		c, err := cache.Get(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := catalog.Lookup(c, "gem_pack_small", ""); !ok {
			b.Fatal("product missing")
		}
	}
	b.StopTimer()
	if calls := e.tr.Calls(); len(calls) != 0 {
		b.Fatalf("warm Gets made calls %v", calls)
	}
}
