// Command load puts `make run`'s server under a mixed, bounded load on
// loopback and then checks, through the public endpoints only, that nothing
// was sold beyond its stock, granted twice, or lost:
//
//	go run ./cmd/load [-dynamodb minidyn|moto|http://127.0.0.1:8000] [-duration 15s] [-max-requests 20000] ...
//
// It builds cmd/local, starts it on a free loopback port with its own
// catalog (cmd/load/catalog.json, including a product of 20 units) and the
// development keys, and, for -dynamodb moto, starts moto_server as
// internal/dev/ddbtest does. For -duration it runs, each at a fixed rate: Stash's
// register, confirm (of live registrations, or of purchases never
// registered) and cancel calls, signed with the development egress key;
// single-call authorizations; the game server's inventory reads; catalog
// lookups; and every -burst-every a drop of the scarce product that many
// players register at once, most winners confirming. A share of the calls
// (-duplicates) is sent twice, after a pause or at the same moment, and the
// two answers must be equal.
//
// With -clients N it runs instead N clients that authorize 2 items with a
// new transactionId back to back: the saturation measurement.
//
// It prints throughput and latency per endpoint, the DynamoDB calls per
// request the server logged, where the server's CPU time went (its CPU
// profile, by area and top functions), and the invariants: every player's inventory
// (read with the game server key) holds exactly what the confirms and
// authorizations answered 200 granted, the scarce product's units in all
// inventories do not exceed its stock, and duplicates were answered alike.
// It exits 1 when an invariant fails.
package main

import (
	"context"
	_ "embed"
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
	clients     int
	// fulfilClients > 0: the licensing fulfilment load (runFulfil) of a
	// pool of fulfilKeys keys.
	fulfilClients, fulfilKeys int
	preload                   int
	top                       int
	keepProfile               string
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
	cfg, err := parseFlags()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	endpoint, backend, stopBackend, err := startBackend(ctx, cfg.dynamodb)
	if err != nil {
		return err
	}
	defer stopBackend()
	if cfg.fulfilClients > 0 {
		return runFulfil(ctx, cfg, endpoint, backend)
	}
	srv, stopServer, err := startLoadServer(ctx, endpoint, cfg.serverLog, cfg.preload)
	if err != nil {
		return err
	}
	defer stopServer()

	r := newRunner(cfg, srv.URL)
	r.catalog = r.routed(ctx, "/api/v1/catalog")
	before := srv.log.waitFor(functionOf["catalog"], 1, 2*time.Second) // the probe's line; the table counts the load's only
	printPlan(cfg, srv.URL, backend)

	elapsed, err := r.drive(ctx)
	if err != nil {
		return err
	}
	r.settle(ctx)
	r.report(os.Stdout, srv.log, before, elapsed)
	err = r.check(ctx, os.Stdout)
	srv.stop() // writes its CPU profile
	printProfile(os.Stdout, srv.profile, cfg.top)
	if endpoint != "" {
		fmt.Printf("(the DynamoDB server at %s runs in its own process: its CPU is not in this profile)\n", endpoint)
	}
	if cfg.keepProfile != "" {
		if data, rerr := os.ReadFile(srv.profile); rerr == nil {
			if werr := os.WriteFile(cfg.keepProfile, data, 0o644); werr != nil {
				fmt.Fprintln(os.Stderr, "load: keep the profile:", werr)
			}
		}
	}
	return err
}

// parseFlags reads the command line, fills in the defaults that depend on
// the backend, and checks the bounds.
func parseFlags() (config, error) {
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
	flag.IntVar(&cfg.preload, "preload", 0, "purchases stored before the server starts (embedded DynamoDB only, through DATA_DIR): each by its own player, as an authorization of 2 items writes them")
	flag.IntVar(&cfg.top, "top", 15, "functions listed in the server's CPU profile summary")
	flag.StringVar(&cfg.keepProfile, "cpuprofile", "", "also keep the server's CPU profile in this file (for go tool pprof)")
	flag.IntVar(&cfg.fulfilClients, "fulfil-clients", 0, "N > 0: N clients each fulfilling one license key of one SKU back to back (the store platform's pool under load)")
	flag.IntVar(&cfg.fulfilKeys, "fulfil-keys", 20000, "the keys of the SKU -fulfil-clients sells")
	flag.IntVar(&cfg.clients, "clients", 0, "0: the mixed open-loop load; N > 0: N clients each sending authorizations (2 items, a new transactionId each) back to back, the saturation measurement")
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
	if cfg.clients > 0 {
		cfg.duplicates = 0 // every request a new transactionId
		if !flagSet("max-requests") {
			cfg.maxRequests = 200000
		}
	}
	if cfg.preload < 0 || cfg.preload > 1_000_000 {
		return config{}, errors.New("-preload must be within [0, 1000000]")
	}
	if cfg.duration <= 0 || cfg.duration > 10*time.Minute || cfg.maxRequests <= 0 || cfg.concurrency <= 0 || cfg.players <= 0 {
		return config{}, errors.New("-duration must be within (0, 10m], -max-requests, -concurrency and -players positive")
	}
	return cfg, nil
}

// rate is the operations per second of op after scaling.
func (c config) rate(op string) float64 { return c.scale * *c.rates[op] }

// startBackend returns the DynamoDB endpoint the server uses ("" for its
// embedded minidyn), how to name it, and how to stop it.
func startBackend(ctx context.Context, dynamodb string) (endpoint, backend string, stop func(), err error) {
	switch dynamodb {
	case "minidyn", "":
		return "", "embedded minidyn", func() {}, nil
	case "moto":
		url, stopMoto, err := startMoto(ctx)
		if err != nil {
			return "", "", nil, err
		}
		return url, "moto_server (serialized, as in the tests) at " + url, stopMoto, nil
	}
	// Traffic stays on this machine.
	if !strings.HasPrefix(dynamodb, "http://127.") && !strings.HasPrefix(dynamodb, "http://localhost") {
		return "", "", nil, fmt.Errorf("-dynamodb %q: only minidyn, moto or a loopback URL", dynamodb)
	}
	return dynamodb, dynamodb, func() {}, nil
}

// startLoadServer starts `make run`'s server on endpoint with the load
// catalog, in a directory of its own; its log lines also go to logPath
// unless it is "". stop stops the server and removes what it left.
func startLoadServer(ctx context.Context, endpoint, logPath string, preload int) (srv *server, stop func(), err error) {
	dir, err := os.MkdirTemp("", "tollgate-load-")
	if err != nil {
		return nil, nil, fmt.Errorf("server directory: %w", err)
	}
	stop = func() { os.RemoveAll(dir) }
	catalogFile := filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(catalogFile, loadCatalog, 0o600); err != nil {
		stop()
		return nil, nil, fmt.Errorf("load catalog: %w", err)
	}
	var keep io.Writer
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("server log: %w", err)
		}
		keep = f
		removeDir := stop
		stop = func() { f.Close(); removeDir() }
	}
	dataDir := ""
	if preload > 0 {
		if endpoint != "" {
			stop()
			return nil, nil, errors.New("-preload: only with the embedded DynamoDB")
		}
		dataDir = filepath.Join(dir, "data")
		if err := preloadPurchases(ctx, dataDir, preload); err != nil {
			stop()
			return nil, nil, err
		}
	}
	srv, err = startServer(ctx, dir, catalogFile, endpoint, dataDir, keep)
	if err != nil {
		stop()
		return nil, nil, err
	}
	closeFiles := stop
	return srv, func() { srv.stop(); closeFiles() }, nil
}

func printPlan(cfg config, url, backend string) {
	if cfg.preload > 0 {
		backend += fmt.Sprintf(" holding %d purchases stored beforehand", cfg.preload)
	}
	if cfg.clients > 0 {
		fmt.Printf("load: %s on %s, DynamoDB %s; %v of %d clients authorizing 2 items with a new transactionId back to back; at most %d requests\n",
			url, hostInfo(), backend, cfg.duration, cfg.clients, cfg.maxRequests)
		return
	}
	fmt.Printf("load: %s on %s, DynamoDB %s; %v at register %.1f/s, confirm %.1f/s, cancel %.1f/s, authorize %.1f/s, inventory %.1f/s, catalog %.1f/s; a drop of %d every %v; %.0f%% duplicates; at most %d requests\n",
		url, hostInfo(), backend, cfg.duration, cfg.rate("register"), cfg.rate("confirm"), cfg.rate("cancel"), cfg.rate("authorize"),
		cfg.rate("inventory"), cfg.rate("catalog"), cfg.burst, cfg.burstEvery, 100*cfg.duplicates, cfg.maxRequests)
}

// drive runs every operation at its rate for the configured duration, then
// waits for the operations in flight, and returns how long that took.
func (r *runner) drive(ctx context.Context) (time.Duration, error) {
	cfg := r.cfg
	start := time.Now()
	loadCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	var wg sync.WaitGroup
	if cfg.clients > 0 {
		for range cfg.clients {
			wg.Go(func() { r.closedLoop(loadCtx) })
		}
		wg.Wait()
		return time.Since(start), ctx.Err()
	}
	ops := map[string]func(context.Context){
		"register": r.register, "confirm": r.confirm, "cancel": r.cancel, "authorize": r.authorize, "inventory": r.inventory,
	}
	if r.catalog {
		ops["catalog"] = r.catalogLookup
	}
	for name, op := range ops {
		wg.Go(func() { r.every(loadCtx, name, cfg.rate(name), false, op) })
	}
	if cfg.burstEvery > 0 && cfg.burst > 0 {
		wg.Go(func() { r.every(loadCtx, "scarce drop", 1/cfg.burstEvery.Seconds(), true, r.burst) })
	}
	wg.Wait()
	cancel()
	if !waitTimeout(&r.ops, 2*cfg.timeout+30*time.Second) {
		return 0, errors.New("operations still in flight long after the load ended")
	}
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return elapsed, nil
}

// report prints throughput and latency per endpoint with the DynamoDB calls
// the server logged for the load (those in before, from the probe, left
// out), the answers by step, and the server's errors.
func (r *runner) report(w io.Writer, logs *serverLog, before map[string]map[int]int, elapsed time.Duration) {
	calls, serverErrors := logs.snapshot()
	for fn, h := range before {
		for n, c := range h {
			calls[fn][n] -= c
			if calls[fn][n] == 0 {
				delete(calls[fn], n)
			}
		}
	}
	fmt.Fprintf(w, "\n%d requests in %v (%.0f req/s), client concurrency bound %d:\n", r.stats.total(), elapsed.Round(time.Millisecond),
		float64(r.stats.total())/elapsed.Seconds(), r.cfg.concurrency)
	r.stats.table(w, elapsed, endpointOrder, functionOf, calls)
	r.printOutcomes(w)
	if serverErrors > 0 {
		fmt.Fprintf(w, "the server logged %d ERROR lines (last lines below)\n%s\n", serverErrors, logs.tail())
	}
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

// routed reports whether the server routes path (anything but API Gateway's
// {"message":"Not Found"}).
func (r *runner) routed(ctx context.Context, path string) bool {
	a, err := r.send(ctx, "", http.MethodGet, path, nil, stashGet)
	return err == nil && (a.status != http.StatusNotFound || !strings.Contains(string(a.body), `"Not Found"`))
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

// flagSet reports whether the command line set flag name.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
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
