// Command load puts `make run`'s server under a mixed, bounded load on
// loopback and then checks, through the public endpoints only, that nothing
// was sold beyond its stock, granted twice, or lost:
//
//	go run ./cmd/load [-dynamodb minidyn|moto|http://127.0.0.1:8000] [-duration 15s] [-max-requests 20000] ...
//
// It builds cmd/local, starts it on a free loopback port with its own
// catalog (cmd/load/catalog.json, including a product of 20 units) and the
// development keys, and, for -dynamodb moto, starts moto_server as
// shared/ddbtest does. For -duration it runs, each at a fixed rate: Stash's
// register, confirm (of live registrations, or of purchases never
// registered) and cancel calls, signed with the development egress key;
// single-call authorizations; the game server's inventory reads; catalog
// lookups; and every -burst-every a drop of the scarce product that many
// players register at once, most winners confirming. A share of the calls
// (-duplicates) is sent twice, after a pause or at the same moment, and the
// two answers must be equal.
//
// It prints throughput and latency per endpoint, the DynamoDB calls per
// request the server logged, and the invariants: every player's inventory
// (read with the game server key) holds exactly what the confirms and
// authorizations answered 200 granted, the scarce product's units in all
// inventories do not exceed its stock, and duplicates were answered alike.
// It exits 1 when an invariant fails.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/motoserver"
)

//go:embed catalog.json
var loadCatalog []byte

type config struct {
	dynamodb    string
	duration    time.Duration
	maxRequests int
	concurrency int
	timeout     time.Duration
	players     int
	duplicates  float64
	rates       map[string]*float64
	burstEvery  time.Duration
	burst       int
	scale       float64
	serverLog   string
}

// endpoints in table order, with the function serving each.
var (
	endpointOrder = []string{"register", "confirm", "cancel", "authorize", "inventory", "catalog"}
	functionOf    = map[string]string{
		"register": "RegisterFunction", "confirm": "ConfirmFunction", "cancel": "CancelFunction",
		"authorize": "AuthorizeFunction", "inventory": "InventoryFunction", "catalog": "CatalogFunction",
	}
)

func main() {
	err := run()
	switch {
	case errors.Is(err, errInvariant):
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	case errors.Is(err, motoserver.ErrNotInstalled):
		fmt.Fprintln(os.Stderr, "load: SKIPPING the moto_server run:", err)
	case err != nil:
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
}

var errInvariant = errors.New("an invariant failed")

func run() error {
	cfg := config{rates: map[string]*float64{}}
	flag.StringVar(&cfg.dynamodb, "dynamodb", envOr("LOAD_DYNAMODB", "minidyn"), "minidyn (embedded), moto (moto_server started here), or an endpoint URL on loopback")
	flag.DurationVar(&cfg.duration, "duration", 15*time.Second, "how long the load runs (then in-flight calls finish and the checks run)")
	flag.IntVar(&cfg.maxRequests, "max-requests", 20000, "most requests the load sends")
	flag.IntVar(&cfg.concurrency, "concurrency", 64, "most operations in flight; a tick beyond it is skipped and counted")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "bound of one request")
	flag.IntVar(&cfg.players, "players", 200, "players the purchases are spread over")
	flag.Float64Var(&cfg.duplicates, "duplicates", 0.15, "share of calls sent twice (a replay, or two at once)")
	for _, e := range []struct {
		name string
		def  float64
	}{{"register", 30}, {"confirm", 20}, {"cancel", 6}, {"authorize", 20}, {"inventory", 10}, {"catalog", 10}} {
		v := e.def
		cfg.rates[e.name] = &v
		flag.Float64Var(&v, e.name, e.def, e.name+" operations per second")
	}
	flag.DurationVar(&cfg.burstEvery, "burst-every", 3*time.Second, "interval of the scarce product's drops (0: none)")
	flag.IntVar(&cfg.burst, "burst", 0, "players registering the scarce product at each drop (default 25 on minidyn, 10 on moto)")
	flag.StringVar(&cfg.serverLog, "server-log", "", "write the server's log lines to this file")
	flag.Float64Var(&cfg.scale, "scale", 0, "multiplies every rate (default 1 on minidyn; 0.15 on moto, which answers one call at a time and copies every table a transaction touches)")
	flag.Parse()
	// moto serves one call at a time, and each TransactWriteItems deep-copies
	// the tables it touches (its rollback), so its service time grows with
	// the data: it gets a lighter load, to measure it below saturation.
	if cfg.scale <= 0 {
		cfg.scale = 1
		if cfg.dynamodb == "moto" {
			cfg.scale = 0.15
		}
	}
	if cfg.burst <= 0 {
		cfg.burst = 25
		if cfg.dynamodb == "moto" {
			cfg.burst = 10
		}
	}
	if cfg.duration <= 0 || cfg.duration > 10*time.Minute || cfg.maxRequests <= 0 || cfg.concurrency <= 0 || cfg.players <= 0 {
		return errors.New("-duration must be within (0, 10m], -max-requests, -concurrency and -players positive")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	endpoint, backend := "", "embedded minidyn"
	switch cfg.dynamodb {
	case "minidyn", "":
	case "moto":
		url, stopMoto, err := startMoto(ctx)
		if err != nil {
			return err
		}
		defer stopMoto()
		endpoint, backend = url, "moto_server (serialized, as in the tests) at "+url
	default:
		if !strings.HasPrefix(cfg.dynamodb, "http://127.") && !strings.HasPrefix(cfg.dynamodb, "http://localhost") {
			return fmt.Errorf("-dynamodb %q: only minidyn, moto or a loopback URL", cfg.dynamodb)
		}
		endpoint, backend = cfg.dynamodb, cfg.dynamodb
	}

	dir, err := os.MkdirTemp("", "tollgate-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	catalogFile := filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(catalogFile, loadCatalog, 0o600); err != nil {
		return err
	}
	var keep io.Writer
	if cfg.serverLog != "" {
		f, err := os.Create(cfg.serverLog)
		if err != nil {
			return err
		}
		defer f.Close()
		keep = f
	}
	srv, err := startServer(ctx, dir, catalogFile, endpoint, keep)
	if err != nil {
		return err
	}
	defer srv.stop()

	r := newRunner(cfg, srv.URL)
	r.catalog = r.routed(ctx, "/api/v1/catalog")
	before := srv.log.waitFor(functionOf["catalog"], 1, 2*time.Second) // the probe's line; the table counts the load's only
	rate := func(n string) float64 { return cfg.scale * *cfg.rates[n] }
	fmt.Printf("load: %s on %s, DynamoDB %s; %v at register %.1f/s, confirm %.1f/s, cancel %.1f/s, authorize %.1f/s, inventory %.1f/s, catalog %.1f/s; a drop of %d every %v; %.0f%% duplicates; at most %d requests\n",
		srv.URL, hostInfo(), backend, cfg.duration, rate("register"), rate("confirm"), rate("cancel"), rate("authorize"),
		rate("inventory"), rate("catalog"), cfg.burst, cfg.burstEvery, 100*cfg.duplicates, cfg.maxRequests)

	start := time.Now()
	loadCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	var wg sync.WaitGroup
	ops := map[string]func(context.Context){
		"register": r.register, "confirm": r.confirm, "cancel": r.cancel, "authorize": r.authorize, "inventory": r.inventory,
	}
	if r.catalog {
		ops["catalog"] = r.catalogLookup
	}
	for name, op := range ops {
		wg.Add(1)
		go func() { defer wg.Done(); r.every(loadCtx, name, cfg.scale**cfg.rates[name], false, op) }()
	}
	if cfg.burstEvery > 0 && cfg.burst > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); r.every(loadCtx, "scarce drop", 1/cfg.burstEvery.Seconds(), true, r.burst) }()
	}
	wg.Wait()
	cancel()
	if !waitTimeout(&r.ops, 2*cfg.timeout+30*time.Second) {
		return errors.New("operations still in flight long after the load ended")
	}
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.settle(ctx)

	calls, serverErrors := srv.log.snapshot()
	for fn, h := range before {
		for n, c := range h {
			calls[fn][n] -= c
			if calls[fn][n] == 0 {
				delete(calls[fn], n)
			}
		}
	}
	fmt.Printf("\n%d requests in %v (%.0f req/s), client concurrency bound %d:\n", r.stats.total(), elapsed.Round(time.Millisecond),
		float64(r.stats.total())/elapsed.Seconds(), cfg.concurrency)
	r.stats.table(os.Stdout, elapsed, endpointOrder, functionOf, calls)
	r.printOutcomes(os.Stdout)
	if serverErrors > 0 {
		fmt.Printf("the server logged %d ERROR lines (last lines below)\n%s\n", serverErrors, srv.log.tail())
	}
	return r.check(ctx, os.Stdout)
}

func (r *runner) printOutcomes(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	steps := make([]string, 0, len(r.outcomes))
	for s := range r.outcomes {
		steps = append(steps, s)
	}
	sort.Strings(steps)
	fmt.Fprintln(w, "\nanswers by step:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range steps {
		fmt.Fprintf(tw, "  %s\t%s\n", s, outcomes(r.outcomes[s]))
	}
	tw.Flush()
}

// check reads every player's inventory with the game server key and checks
// the invariants against the ledger.
func (r *runner) check(ctx context.Context, w io.Writer) error {
	r.mu.Lock()
	players := make([]string, 0, len(r.used))
	for p := range r.used {
		players = append(players, p)
	}
	expected := map[string]map[string]int64{}
	units := int64(0)
	for _, g := range r.granted {
		if expected[g.player] == nil {
			expected[g.player] = map[string]int64{}
		}
		for id, q := range g.items {
			expected[g.player][id] += q
			units += q
		}
	}
	grants := len(r.granted)
	r.mu.Unlock()
	sort.Strings(players)

	type holding struct {
		ProductID string `json:"productId"`
		Quantity  int64  `json:"quantity"`
	}
	var inv struct {
		Items []holding `json:"items"`
		Debts []holding `json:"debts"`
	}
	found, scarce, mismatched := int64(0), int64(0), 0
	for _, p := range players {
		a, err := r.send(ctx, "", http.MethodGet, "/api/v1/players/"+p+"/inventory", nil, gameServer)
		if err != nil || a.status != http.StatusOK {
			r.fail("inventory of %s: %d %v %s", p, a.status, err, a.body)
			continue
		}
		inv.Items, inv.Debts = nil, nil
		if err := json.Unmarshal(a.body, &inv); err != nil {
			r.fail("inventory of %s: %v", p, err)
			continue
		}
		got := map[string]int64{}
		for _, h := range inv.Items {
			got[h.ProductID] = h.Quantity
			found += h.Quantity
		}
		scarce += got[scarceProduct]
		want := expected[p]
		var diffs []string
		for id := range union(got, want) {
			if got[id] != want[id] {
				kind := "granted twice or without a 200"
				if got[id] < want[id] {
					kind = "a 200 not in the inventory"
				}
				diffs = append(diffs, fmt.Sprintf("%s holds %d, the answers granted %d (%s)", id, got[id], want[id], kind))
			}
		}
		if len(diffs) > 0 {
			mismatched++
			r.fail("inventory of %s: %s", p, strings.Join(diffs, "; "))
		}
		if len(inv.Debts) > 0 {
			r.fail("inventory of %s has debts %v (no refund was sent)", p, inv.Debts)
		}
	}
	if scarce > scarceStock {
		r.fail("%s: %d units in inventories, its stock is %d: sold beyond the stock", scarceProduct, scarce, scarceStock)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, "\ninvariants (through the public inventory endpoint, game server key):\n")
	fmt.Fprintf(w, "  every confirmed or authorized purchase present, none granted twice: %d players read, %d grants (%d units) answered 200, %d units held, %d players differ\n",
		len(players), grants, units, found, mismatched)
	fmt.Fprintf(w, "  %s (stock %d) not sold beyond its stock: %d units held in all inventories (%d registrations won, some cancelled and sold again)\n",
		scarceProduct, scarceStock, scarce, r.scarceWon)
	fmt.Fprintf(w, "  duplicates answered alike: %d replays and %d concurrent pairs compared\n", r.replays, r.pairs)
	if len(r.failures) > 0 {
		fmt.Fprintf(w, "\nFAILED: %d invariant violations:\n", len(r.failures))
		for i, f := range r.failures {
			if i == 20 {
				fmt.Fprintf(w, "  ... and %d more\n", len(r.failures)-20)
				break
			}
			fmt.Fprintf(w, "  %s\n", f)
		}
		return errInvariant
	}
	fmt.Fprintln(w, "  all invariants hold")
	return nil
}

func union(a, b map[string]int64) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// routed reports whether the server routes path (anything but API Gateway's
// {"message":"Not Found"}).
func (r *runner) routed(ctx context.Context, path string) bool {
	a, err := r.send(ctx, "", http.MethodGet, path, nil, stashGet)
	return err == nil && !(a.status == http.StatusNotFound && strings.Contains(string(a.body), `"Not Found"`))
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func hostInfo() string {
	n, _ := os.ReadFile("/proc/cpuinfo")
	cores := strings.Count(string(n), "\nprocessor") + 1
	if len(n) == 0 {
		cores = 0
	}
	return fmt.Sprintf("a %d-core machine", cores)
}
