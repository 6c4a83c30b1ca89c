// Command local runs every Tollgate endpoint in one process, on the routes
// template.yaml gives them, against the embedded DynamoDB (minidyn, see
// internal/dev/embeddeddb; kept in DATA_DIR when set) or DYNAMODB_ENDPOINT,
// with keys from the environment. It is what `make run` starts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/iampolicy"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
	"github.com/tollgate-dev/tollgate/shared/catalog"
	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/secrets"
	"github.com/tollgate-dev/tollgate/shared/store"
	"github.com/tollgate-dev/tollgate/shared/stores"
)

// sandboxSettleAfter is when the SANDBOX settles a pending charge (tok_pending) in make run.
const sandboxSettleAfter = 3 * time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tollgate local:", err)
		os.Exit(1)
	}
}

// envDuration reads a duration from the environment variable k, or def.
func envDuration(k string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(k)); err == nil && d > 0 {
		return d
	}
	return def
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "tollgate local: cpu profile:", err)
		}
	}, nil
}

// printSummary tells a person where to click (the log lines above are for
// machines).
func printSummary(w io.Writer, base string, routes int, roles bool) {
	role := "under its IAM role"
	if !roles {
		role = "WITHOUT its IAM role (samtranslator missing)"
	}
	fmt.Fprintf(w, `
Tollgate is running on %[1]s (%[2]d routes; each request takes API Gateway's path:
route selection, payload 2.0 event, the function's Lambda entry, %[3]s).
  Marketplace (hosted checkout):  %[1]s/market/
  Add to cart:                    %[1]s/s/my-store/cart/?add=WIN-11-PRO&currency=GBP
  API contract:                   %[1]s/openapi.yaml
  Stash authorization (curl):     see README "Try it" (development keys listed above)
Ctrl-C stops it.

`, base, routes, role)
}

func run() error {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	addr := flag.String("addr", "127.0.0.1:"+port, "listen address (PORT sets the port)")
	templatePath := flag.String("template", "", "SAM template (default: template.yaml above the working directory)")
	catalogFile := flag.String("catalog", os.Getenv("CATALOG_FILE"), "catalog file imported at start (CATALOG_FILE; default: the sample catalog)")
	storesFile := flag.String("stores", os.Getenv("STORES_FILE"), "stores file imported at start (STORES_FILE; default: the sample stores)")
	every := flag.Duration("schedule-every", 0, "run scheduled functions at this interval instead of their template rate")
	dispatchEvery := flag.Duration("dispatch-every", 5*time.Second, "run the webhook dispatcher (DispatchFunction) at this interval (0: as -schedule-every)")
	dataDir := flag.String("data-dir", os.Getenv("DATA_DIR"), "keep the embedded DynamoDB in this directory across restarts (DATA_DIR; default: in memory)")
	saveEvery := flag.Duration("save-every", envDuration("DATA_SAVE_INTERVAL", localenv.DefaultSaveEvery), "how often the data directory is saved (DATA_SAVE_INTERVAL)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file, from the end of the start-up (DATA_DIR loaded) to the shutdown (make load reads it)")
	flag.Parse()

	catalogData, catalogSource := catalog.Sample, "sample catalog (shared/catalog/sample/catalog.json)"
	if *catalogFile != "" {
		data, err := os.ReadFile(*catalogFile)
		if err != nil {
			return err
		}
		catalogData, catalogSource = data, *catalogFile
	}

	storesData, storesSource := stores.Sample, "sample stores (shared/stores/sample/stores.json)"
	if *storesFile != "" {
		data, err := os.ReadFile(*storesFile)
		if err != nil {
			return err
		}
		storesData, storesSource = data, *storesFile
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The collector's pace: GOGC, when set, decides; otherwise the heap may
	// grow by a fixed headroom between collections (localenv.PaceGC).
	if os.Getenv("GOGC") == "" {
		localenv.PaceGC(ctx, localenv.GCHeadroom)
	}

	logger := deps.NewLogger(os.Stdout, os.Getenv(deps.EnvLogLevel))
	slog.SetDefault(logger) // as lambdarun does in Lambda
	// One long-lived process: the SANDBOX settles pending charges by itself.
	payments.SettleSandboxAfter(sandboxSettleAfter)
	if *templatePath == "" {
		p, err := samtemplate.Find()
		if err != nil {
			return err
		}
		*templatePath = p
	}
	// Each function runs under its own IAM role, as SAM expands the
	// template: a call the role does not allow fails as in AWS.
	guard, err := iampolicy.NewStackGuard(ctx, *templatePath, iampolicy.Locals{TableName: func(id string) string { return id }})
	if err != nil {
		if !errors.Is(err, samtranslate.ErrUnavailable) {
			return fmt.Errorf("IAM roles: %w", err)
		}
		logger.Warn("functions run WITHOUT their IAM roles (every call allowed)", "reason", err.Error())
		guard = nil
	}
	stack, err := localenv.Start(ctx, localenv.Config{
		Guard:        guard,
		TemplatePath: *templatePath,
		Endpoint:     os.Getenv(store.EnvEndpoint),
		Logger:       logger,
		Catalog:      catalogData,
		Stores:       storesData,
		DataDir:      *dataDir,
		SaveEvery:    *saveEvery,
	})
	if err != nil {
		return err
	}
	defer stack.Close()
	router, err := stack.Router(functions.Constructors)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}

	stack.ScheduleEvery = map[string]time.Duration{"DispatchFunction": *dispatchEvery}
	if err := stack.RunSchedules(ctx, functions.Jobs, *every); err != nil {
		return err
	}
	logger.Info("catalog loaded", "source", catalogSource)
	logger.Info("stores loaded", "source", storesSource)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := localenv.NewServer(router, localenv.DefaultServerTimeouts)
	dynamo := "embedded (minidyn, in process; also on " + stack.Endpoint + "), in memory"
	switch {
	case stack.Minidyn == nil:
		dynamo = stack.Endpoint
	case stack.DataFile != "":
		dynamo = fmt.Sprintf("embedded (minidyn, in process; also on %s), kept in %s (saved every %v and at shutdown)", stack.Endpoint, stack.DataFile, *saveEvery)
	}
	for _, n := range secrets.Names {
		source := "environment"
		switch {
		case os.Getenv(n.EnvVar()) != "":
		case localenv.DevKeys[n] != "":
			source = "development default (see README)"
		default:
			source = "unset (see README)"
		}
		logger.Info("key", "name", n.EnvVar(), "source", source)
	}
	for _, r := range stack.Routes() {
		logger.Info("route", "route", r)
	}
	logger.Info("tollgate listening", "url", "http://"+ln.Addr().String(), "contract", "http://"+ln.Addr().String()+"/openapi.yaml", "dynamodb", dynamo)

	printSummary(os.Stderr, "http://"+ln.Addr().String(), len(stack.Routes()), guard != nil)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
