// Command local runs every Tollgate endpoint in one process, on the routes
// template.yaml gives them, against the embedded DynamoDB (minidyn, see
// internal/dev/embeddeddb; kept in DATA_DIR when set) or DYNAMODB_ENDPOINT,
// with keys from the environment. It is what `make run` starts.
package main

import (
	"cmp"
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
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/iampolicy"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// sandboxSettleAfter is when the SANDBOX settles a pending charge (tok_pending) in make run.
const sandboxSettleAfter = 3 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, isTerminal(os.Stdout), nil)
	stop()
	if err != nil {
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

// mailDirectory is where the emails are kept: MAIL_DIR, else
// $DATA_DIR/mail, else a new temporary directory (printed at start).
func mailDirectory(dataDir string, logger *slog.Logger) (string, error) {
	if d := os.Getenv(localenv.EnvMailDir); d != "" {
		return d, nil
	}
	if dataDir != "" {
		return filepath.Join(dataDir, "mail"), nil
	}
	d, err := os.MkdirTemp("", "tollgate-mail-")
	if err != nil {
		return "", fmt.Errorf("mail directory: %w", err)
	}
	logger.Warn("emails are kept in a temporary directory (set MAIL_DIR or DATA_DIR to keep them)", "mail_dir", d)
	return d, nil
}

// run serves until ctx is done. Its log goes to stdout: JSON lines, or for
// a person (LOG_FORMAT; by default when terminal, stdout is one) a summary
// at start and a line per record. ready, when set, is called with the
// API's URL once it listens (tests).
func run(ctx context.Context, args []string, stdout io.Writer, terminal bool, ready func(base string)) error {
	text, err := textLog(os.Getenv(envLogFormat), terminal)
	if err != nil {
		return err
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:"+port, "listen address (PORT sets the port)")
	templatePath := fs.String("template", "", "SAM template (default: template.yaml above the working directory)")
	catalogFile := fs.String("catalog", os.Getenv("CATALOG_FILE"), "catalog file imported at start (CATALOG_FILE; default: the sample catalog)")
	storesFile := fs.String("stores", os.Getenv("STORES_FILE"), "stores file imported at start (STORES_FILE; default: the sample stores)")
	every := fs.Duration("schedule-every", 0, "run scheduled functions at this interval instead of their template rate")
	dispatchEvery := fs.Duration("dispatch-every", 5*time.Second, "run the webhook dispatcher (DispatchFunction) at this interval (0: as -schedule-every)")
	dataDir := fs.String("data-dir", os.Getenv("DATA_DIR"), "keep the embedded DynamoDB in this directory across restarts (DATA_DIR; default: in memory)")
	saveEvery := fs.Duration("save-every", envDuration("DATA_SAVE_INTERVAL", localenv.DefaultSaveEvery), "how often the data directory is saved (DATA_SAVE_INTERVAL)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file, from the end of the start-up (DATA_DIR loaded) to the shutdown (make load reads it)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}

	catalogData, catalogSource := catalog.Sample, "sample catalog (shared/stash/catalog/sample/catalog.json)"
	if *catalogFile != "" {
		data, err := os.ReadFile(*catalogFile)
		if err != nil {
			return err
		}
		catalogData, catalogSource = data, *catalogFile
	}

	storesData, storesSource := stores.Sample, "sample stores (shared/storefront/stores/sample/stores.json)"
	if *storesFile != "" {
		data, err := os.ReadFile(*storesFile)
		if err != nil {
			return err
		}
		storesData, storesSource = data, *storesFile
	}

	// The collector's pace: GOGC, when set, decides; otherwise the heap may
	// grow by a fixed headroom between collections (localenv.PaceGC).
	if os.Getenv("GOGC") == "" {
		localenv.PaceGC(ctx, localenv.GCHeadroom)
	}

	level := &slog.LevelVar{}
	configured := deps.LogLevel(os.Getenv(deps.EnvLogLevel))
	level.Set(configured)
	logger := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: level}))
	if text {
		// The summary is the start-up's news; only its warnings come first.
		logger = slog.New(newTextHandler(stdout, level))
		level.Set(max(configured, slog.LevelWarn))
	}
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
	// Every request's metrics, summed for the summary printed on the way out.
	tally := &metrics.Tally{}
	// The API listens before the stack starts: the emails' order links
	// need its address.
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	mailDir, err := mailDirectory(*dataDir, logger)
	if err != nil {
		return err
	}
	// The dispatcher reads both (documented settings the process may set).
	os.Setenv(localenv.EnvMailDir, mailDir)                                          //nolint:errcheck // a valid name: cannot fail
	os.Setenv("ORDER_LINK_BASE_URL", cmp.Or(os.Getenv("ORDER_LINK_BASE_URL"), base)) //nolint:errcheck // as above
	stack, err := localenv.Start(ctx, localenv.Config{
		Guard:        guard,
		TemplatePath: *templatePath,
		Endpoint:     os.Getenv(dynamo.EnvEndpoint),
		Logger:       logger,
		Catalog:      catalogData,
		Stores:       storesData,
		DataDir:      *dataDir,
		SaveEvery:    *saveEvery,
		Metrics:      tally,
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

	// make run's mailbox beside the API (never in the template).
	mux := http.NewServeMux()
	mux.Handle("/dev/mail/", localenv.MailHandler(mailDir, logger))
	mux.Handle("/", router)
	srv := localenv.NewServer(mux, localenv.DefaultServerTimeouts)
	dynamo := "embedded (minidyn, in process; also on " + stack.Endpoint + "), in memory"
	switch {
	case stack.Minidyn == nil:
		dynamo = stack.Endpoint
	case stack.DataFile != "":
		dynamo = fmt.Sprintf("embedded (minidyn, in process; also on %s), kept in %s (saved every %v and at shutdown)", stack.Endpoint, stack.DataFile, *saveEvery)
	}
	start := startup{
		Base: base, MailDir: mailDir, Routes: stack.Routes(), Roles: guard != nil, DynamoDB: dynamo,
		Catalog: catalogSource, Stores: storesSource, Keys: keySources(os.Getenv),
		MerchantSecret:      cmp.Or(os.Getenv(localenv.EnvPaymentsSecretKey), localenv.DevPaymentsSecretKey),
		MerchantPublishable: cmp.Or(os.Getenv(localenv.EnvPaymentsPublishableKey), localenv.DevPaymentsPublishableKey),
	}
	if f, err := stores.ParseFile(storesData); err == nil && len(f.Stores) > 0 {
		start.DemoStore = f.Stores[0]
		owner, err := demoOwner(ctx, stack, start.DemoStore.Slug)
		if err != nil {
			return err
		}
		start.Portal, start.DemoOwner = portalURL(base), owner
	}
	if text {
		start.print(stdout)
		level.Set(configured)
	} else {
		start.logJSON(logger)
	}
	if ready != nil {
		ready(start.Base)
	}

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
	// What production would chart: the EMF figures of this run, summed
	// (a gauge: its number of samples).
	if text {
		return tally.WriteSummary(stdout)
	}
	logger.Info("metrics summary", "figures", tally.Figures())
	return nil
}
