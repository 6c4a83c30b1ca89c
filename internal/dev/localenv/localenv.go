// Package localenv stands up Tollgate without AWS: a DynamoDB endpoint
// (the embedded engine of internal/dev/embeddeddb, or an external
// DynamoDB-compatible server), the template's tables, keys from environment variables with
// development defaults, and every function's handler mounted on the route
// template.yaml gives it. The local runner, the invoke tool and the
// end-to-end tests all use it, so they exercise the deployed handlers.
package localenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	miniserver "github.com/truora/minidyn/server"

	"github.com/tollgate-dev/tollgate/internal/dev/apigw"
	"github.com/tollgate-dev/tollgate/internal/dev/embeddeddb"
	"github.com/tollgate-dev/tollgate/internal/dev/iampolicy"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/retry"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// DevKeys are the keys used locally when their environment variables are
// unset. They are public (docs/local.md lists them): never deploy them.
var DevKeys = secrets.Static{
	secrets.StashAPIKey:        "cad1", // the key of Stash's own curl example
	secrets.StashEgressKey:     "dGVzdC1lZ3Jlc3Mta2V5LWZvci1sb2NhbC1ydW5zLW9ubHk",
	secrets.StashWebhookSecret: "dev-webhook-secret",
	secrets.GameServerKey:      "dev-game-server-key",
	secrets.CheckoutSigningKey: "dev-checkout-signing-key-local-runs-only",
}

// Config says how to stand the stack up. The zero value (with a template
// path) runs on embedded minidyn with environment keys.
type Config struct {
	TemplatePath string // "" finds template.yaml above the working directory
	Endpoint     string // external DynamoDB endpoint; "" starts the embedded engine
	TablePrefix  string // prepended to every table name (tests isolate themselves with it)
	// Getenv is the process environment: it sets the development keys
	// (DevVariables) and documented settings (Settings), and overrides the
	// variables the template sets for a function (as sam local invoke's
	// --env-vars does), table names excepted.
	Getenv func(string) string
	// Parameters are template parameter values (the others: defaults).
	Parameters map[string]string
	// HTTPClient is the DynamoDB client's HTTP client (call counting,
	// faults); nil reaches the embedded engine in process.
	HTTPClient  aws.HTTPClient
	MaxAttempts int          // the DynamoDB client's retry attempts (0: SDK default)
	Logger      *slog.Logger // nil: JSON to stderr
	// Metrics, when set, sums the metrics every request and run emits
	// (make run's summary on its way out).
	Metrics *metrics.Tally
	Now     func() time.Time
	// Catalog, when set, is a catalog file (JSON) imported into the catalog
	// table at start.
	Catalog []byte
	// Stores, when set, is a stores file (JSON, shared/storefront/stores) imported into
	// the stores table at start.
	Stores []byte
	// DataDir, when set, keeps the embedded engine's content in a file of
	// this directory: loaded at start (a file that cannot be loaded stops
	// the start), saved every SaveEvery and by Close. "" keeps it in memory.
	DataDir   string
	SaveEvery time.Duration // 0: DefaultSaveEvery
	// Guard, when set, holds every function Deps builds to its IAM role
	// (internal/dev/iampolicy): the function gets a DynamoDB client of its
	// own and a key source that are checked call by call, and a denied
	// call fails as in AWS. Its table ARNs must name TablePrefix's tables.
	Guard *iampolicy.Guard
}

// DefaultSaveEvery is how often a DataDir is saved: a kill -9 loses at most
// the writes of the last interval.
const DefaultSaveEvery = 5 * time.Second

// Stack is a running local Tollgate minus its HTTP listener.
type Stack struct {
	Template *samtemplate.Template
	Endpoint string
	DB       *dynamodb.Client
	Keys     secrets.Static
	// LocalSecrets serves Keys and the secrets functions write at run time
	// (a store's rotated webhook secret): the functions' key source.
	LocalSecrets *secrets.Local
	Logger       *slog.Logger
	// StoreWebhookSecrets holds the webhook secrets a stores file gave in
	// plaintext, by the webhookSecretRef the store row names (never in
	// DynamoDB); the outbound delivery resolves them.
	StoreWebhookSecrets map[string]string
	// ScheduleEvery overrides RunSchedules' interval per function (the
	// local runner delivers webhooks every few seconds).
	ScheduleEvery map[string]time.Duration
	// Minidyn is the embedded engine (minidyn, see internal/dev/embeddeddb),
	// nil with an external endpoint; tests use it to inject failures.
	Minidyn *embeddeddb.Engine
	// DataFile is the file the embedded engine is kept in ("" in memory).
	DataFile string
	// EnvSource says where the functions' environments come from
	// (EnvFromTransform, or EnvFromParse without samtranslator).
	EnvSource string

	cfg   Config
	close func()
	env   map[string]functionEnv // by function id
	reads *readLog
}

// Start starts the DynamoDB endpoint (unless external), creates the missing
// tables and reads the keys.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = deps.NewLogger(os.Stderr, cfg.Getenv(deps.EnvLogLevel))
	}
	if cfg.TemplatePath == "" {
		p, err := samtemplate.Find()
		if err != nil {
			return nil, err
		}
		cfg.TemplatePath = p
	}
	tmpl, err := samtemplate.Load(cfg.TemplatePath)
	if err != nil {
		return nil, err
	}
	s := &Stack{Template: tmpl, Endpoint: cfg.Endpoint, Logger: cfg.Logger, cfg: cfg, close: func() {}, reads: &readLog{}}
	if err := s.loadEnv(ctx); err != nil {
		return nil, err
	}
	// As lambdarun does in Lambda: request and trace ids on every line,
	// the metrics of a request as EMF in its line.
	s.Logger = slog.New(lambdarun.LogHandler(cfg.Logger.Handler(), s.metricsNamespace(), cfg.Metrics))
	s.cfg.Logger = s.Logger
	httpClient := cfg.HTTPClient
	if s.Endpoint == "" {
		s.Minidyn = embeddeddb.New()
		// The loopback endpoint serves clients given their own HTTP client
		// (tests counting calls on the wire) and other tools; the stack's
		// own client skips the socket.
		endpoint, stop, err := serveLoopback(s.Minidyn)
		if err != nil {
			return nil, fmt.Errorf("start the embedded DynamoDB: %w", err)
		}
		s.Endpoint, s.close = endpoint, stop
		if cfg.DataDir != "" {
			if err := s.keep(ctx, cfg); err != nil {
				s.Close()
				return nil, err
			}
		}
		if httpClient == nil {
			httpClient = &http.Client{Transport: s.Minidyn.Transport()}
		}
	}
	s.DB, err = dynamo.NewClient(ctx, dynamo.ClientOptions{Endpoint: s.Endpoint, HTTPClient: httpClient, MaxAttempts: cfg.MaxAttempts})
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := CreateTables(ctx, s.DB, tmpl, cfg.TablePrefix); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.createDemoMerchant(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("payments demo merchant: %w", err)
	}
	if cfg.Catalog != nil {
		if _, err := s.ImportCatalog(ctx, cfg.Catalog); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.Keys = secrets.Static{}
	s.LocalSecrets = &secrets.Local{Fallback: s.Keys}
	env := secrets.FromEnv(cfg.Getenv)
	for _, n := range secrets.Names {
		s.Keys[n] = DevKeys[n]
		if v := env[n]; v != "" {
			s.Keys[n] = v
		}
	}
	if cfg.Stores != nil {
		if _, err := s.ImportStores(ctx, cfg.Stores); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close stops the embedded engine, if any, saving it to its DataDir.
func (s *Stack) Close() { s.close() }

// keep loads the embedded engine from cfg.DataDir and saves it there every
// cfg.SaveEvery and when the stack closes.
func (s *Stack) keep(ctx context.Context, cfg Config) error {
	store, err := embeddeddb.OpenStore(ctx, s.Minidyn, cfg.DataDir, s.Logger)
	if err != nil {
		return fmt.Errorf("DATA_DIR: %w", err)
	}
	s.DataFile = store.Path()
	every := cfg.SaveEvery
	if every <= 0 {
		every = DefaultSaveEvery
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		store.Run(runCtx, every)
	}()
	stop := s.close
	s.close = func() {
		cancel()
		<-done
		if err := store.Save(context.Background()); err != nil {
			s.Logger.Error("embedded DynamoDB not saved at shutdown", "error", err)
		}
		stop()
	}
	return nil
}

func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := NewServer(h, DefaultServerTimeouts)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// TableName is the local name of the table with the given logical id.
func (s *Stack) TableName(logicalID string) string { return s.cfg.TablePrefix + logicalID }

// Env returns the environment function id runs with locally: the one the
// expanded template gives it (Globals merged; tables renamed to their local
// names; parameters their given values or defaults; the secrets left out,
// so keys come from the key variables), where the process environment
// (Config.Getenv) overrides the variables the template sets (table names
// excepted) and adds only the development keys (DevVariables) and the
// documented settings (Settings). Every read is recorded
// (UndocumentedReads).
func (s *Stack) Env(id string) (func(string) string, error) {
	fe, ok := s.env[id]
	if !ok {
		return nil, fmt.Errorf("function %s is not in the template", id)
	}
	return func(k string) string {
		s.reads.add(id, k)
		if fe.tables[k] {
			return fe.vars[k]
		}
		if fe.declared[k] || documented(k) {
			if v := s.cfg.Getenv(k); v != "" {
				return v
			}
		}
		return fe.vars[k]
	}, nil
}

// Deps returns the dependencies of function id.
func (s *Stack) Deps(id string) (deps.Deps, error) {
	getenv, err := s.Env(id)
	if err != nil {
		return deps.Deps{}, err
	}
	tables, err := dynamo.TablesFromEnv(getenv)
	if err != nil {
		return deps.Deps{}, fmt.Errorf("function %s: %w", id, err)
	}
	d := deps.Deps{
		Store:        dynamo.Store{DB: s.DB, Tables: tables},
		Secrets:      s.LocalSecrets,
		LocalSecrets: s.LocalSecrets,
		Logger:       s.Logger,
		Getenv:       getenv,
		Now:          s.cfg.Now,
	}
	if g := s.cfg.Guard; g != nil {
		// Its own client, over the stack's HTTP client (call counting and
		// faults still see every call), so each call is the function's.
		d.Store.DB = dynamodb.New(s.DB.Options(), func(o *dynamodb.Options) { o.HTTPClient = g.HTTPClient(id, o.HTTPClient) })
		d.Secrets = g.Secrets(id, s.LocalSecrets)
		d.CheckSecretRead = g.SecretRead(id)
	}
	return d, nil
}

// Handler builds function id's handler from constructors.
func (s *Stack) Handler(id string, constructors map[string]lambdarun.Constructor) (http.Handler, error) {
	newHandler, ok := constructors[id]
	if !ok {
		return nil, fmt.Errorf("function %s has no handler registered", id)
	}
	d, err := s.Deps(id)
	if err != nil {
		return nil, err
	}
	h, err := newHandler(d)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", id, err)
	}
	return h, nil
}

// Router is the local HTTP API: every request takes the path it takes in
// AWS — API Gateway's route selection over the template's routes, the
// payload 2.0 event, the function's real Lambda entry (lambdarun.HTTPEntry
// behind aws-lambda-go's handler, the event and answer crossing as JSON)
// and the answer turned back into HTTP (internal/dev/apigw). Every template
// function with routes must have a constructor and every constructor a
// template function; a route API Gateway would refuse fails here.
func (s *Stack) Router(constructors map[string]lambdarun.Constructor) (*apigw.Gateway, error) {
	for id := range constructors {
		if _, ok := s.Template.Functions[id]; !ok {
			return nil, fmt.Errorf("handler %s is registered but not in the template", id)
		}
	}
	return s.Gateway(constructors, s.Template.FunctionIDs()...)
}

// Gateway is the local HTTP API with the routes of the given functions only
// (tests of one function).
func (s *Stack) Gateway(constructors map[string]lambdarun.Constructor, ids ...string) (*apigw.Gateway, error) {
	var routes []apigw.Route
	fns := map[string]apigw.Function{}
	for _, id := range ids {
		fn, ok := s.Template.Functions[id]
		if !ok {
			return nil, fmt.Errorf("function %s is not in the template", id)
		}
		if len(fn.Routes) == 0 {
			continue
		}
		invoke, err := s.LambdaInvoke(id, constructors)
		if err != nil {
			return nil, err
		}
		fns[id] = apigw.Function{Invoke: invoke, Timeout: fn.Timeout}
		for _, r := range fn.Routes {
			routes = append(routes, apigw.Route{Method: r.Method, Path: r.Path, Function: id})
		}
	}
	return apigw.New(routes, fns, s.Logger)
}

// LambdaInvoke builds function id and returns its invocation as the Lambda
// runtime makes it: the JSON event through aws-lambda-go's handler of the
// function's real entry (lambdarun.HTTPEntry), the JSON answer back.
//
// An execution environment serves one invocation at a time — aws-lambda-go's
// handler hands back its answer in a buffer it reuses for the next one — and
// Lambda meets concurrent requests with more environments. So each
// invocation here takes an environment of its own from a pool (the built
// handler is shared, as the tests always did) and the answer is copied out
// before the environment serves again.
func (s *Stack) LambdaInvoke(id string, constructors map[string]lambdarun.Constructor) (apigw.Invoke, error) {
	h, err := s.Handler(id, constructors)
	if err != nil {
		return nil, err
	}
	entry := lambdarun.HTTPEntry(id, s.Logger, h)
	environments := sync.Pool{New: func() any { return lambda.NewHandler(entry) }}
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		env := environments.Get().(lambda.Handler)
		defer environments.Put(env)
		answer, err := env.Invoke(ctx, payload)
		return bytes.Clone(answer), err
	}, nil
}

// Routes lists "METHOD /path → Function" lines for the runner's banner.
func (s *Stack) Routes() []string {
	var out []string
	for _, id := range s.Template.FunctionIDs() {
		for _, r := range s.Template.Functions[id].Routes {
			out = append(out, fmt.Sprintf("%-6s %s -> %s", r.Method, r.ClientPath(), id))
		}
	}
	sort.Strings(out)
	return out
}

// CreateTables creates the template's tables that do not exist yet, named
// prefix + logical id.
func CreateTables(ctx context.Context, db *dynamodb.Client, t *samtemplate.Template, prefix string) error {
	ids := make([]string, 0, len(t.Tables))
	for id := range t.Tables {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, err := createTable(ctx, db, t.Tables[id], prefix+id); err != nil {
			return err
		}
	}
	return nil
}

// EnsureTable creates table name as the template defines table id (keys,
// indexes, on-demand billing) unless it exists, and waits until it is
// active. It reports whether it created it. Deployed stacks get their
// tables from template.yaml; this is for DynamoDB-compatible servers
// (cmd/catalog --create-table).
func EnsureTable(ctx context.Context, db *dynamodb.Client, t *samtemplate.Template, id, name string) (bool, error) {
	tab, ok := t.Tables[id]
	if !ok {
		return false, fmt.Errorf("template.yaml has no table %s", id)
	}
	created, err := createTable(ctx, db, tab, name)
	if err != nil {
		return false, err
	}
	// Wait for ACTIVE. Some emulators (minidyn) leave the status empty:
	// they are ready at once.
	_, err = retry.Do(ctx, tableActive, func(ctx context.Context) (struct{}, error) {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return struct{}{}, fmt.Errorf("describe table %s: %w", name, err)
		}
		if st := out.Table.TableStatus; st != "" && st != types.TableStatusActive {
			return struct{}{}, fmt.Errorf("table %s is %s: %w", name, st, errNotActive)
		}
		return struct{}{}, nil
	})
	return created, err
}

var errNotActive = errors.New("not active yet")

// tableActive polls a new table's status for up to about a minute.
var tableActive = retry.Policy{Attempts: 40, Retryable: retry.On(errNotActive), Backoff: retry.Jittered(200*time.Millisecond, 2*time.Second)}

// createTable creates table name as tab defines it, reporting false when it
// exists already.
func createTable(ctx context.Context, db *dynamodb.Client, tab samtemplate.Table, name string) (bool, error) {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   keySchema(tab.KeySchema),
	}
	for _, a := range tab.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.Name), AttributeType: types.ScalarAttributeType(a.Type),
		})
	}
	for _, g := range tab.GlobalIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.Name),
			KeySchema:  keySchema(g.KeySchema),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	_, err := db.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &inUse):
		return false, nil
	}
	return false, fmt.Errorf("create table %s: %w", name, err)
}

func keySchema(ks []samtemplate.KeyElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(ks))
	for _, k := range ks {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.Name), KeyType: types.KeyType(k.KeyType)})
	}
	return out
}

// Discard is a logger that drops everything (tests that count on quiet output).
var Discard = slog.New(slog.NewJSONHandler(io.Discard, nil))

// ResolveFunction accepts a logical id ("AuthorizeFunction") or its short
// name ("authorize", "Authorize") and returns the logical id.
func (s *Stack) ResolveFunction(name string) (string, error) {
	if _, ok := s.Template.Functions[name]; ok {
		return name, nil
	}
	for _, id := range s.Template.FunctionIDs() {
		if strings.EqualFold(id, name) || strings.EqualFold(id, name+"Function") {
			return id, nil
		}
	}
	return "", fmt.Errorf("no function %q in the template (have %s)", name, strings.Join(s.Template.FunctionIDs(), ", "))
}

// Invoke runs function id's Lambda entry on an HTTP API (payload 2.0) event,
// as `sam local invoke` would, and returns the API Gateway response.
func (s *Stack) Invoke(ctx context.Context, id string, constructors map[string]lambdarun.Constructor, event []byte) (events.APIGatewayV2HTTPResponse, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("event is not an HTTP API v2 event: %w", err)
	}
	invoke, err := s.LambdaInvoke(id, constructors)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	answer, err := invoke(ctx, event)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("function %s: %w", id, err)
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(answer, &res); err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("function %s answered no HTTP API response: %w", id, err)
	}
	return res, nil
}

// ImportCatalog validates a catalog file and imports it into the catalog
// table, as `go run ./cmd/catalog` does for a deployed table.
func (s *Stack) ImportCatalog(ctx context.Context, data []byte) (catalog.ImportResult, error) {
	f, err := catalog.ParseFile(data)
	if err != nil {
		return catalog.ImportResult{}, fmt.Errorf("catalog: %w", err)
	}
	res, err := catalog.Import(ctx, s.DB, s.TableName(catalogTable), f)
	if err != nil {
		return res, fmt.Errorf("import catalog: %w", err)
	}
	return res, nil
}

// ImportStores validates a stores file and imports it into the stores
// table, as `go run ./cmd/stores import` does for a deployed table;
// plaintext webhook secrets stay in memory (StoreWebhookSecrets).
func (s *Stack) ImportStores(ctx context.Context, data []byte) (stores.ImportResult, error) {
	f, err := stores.ParseFile(data)
	if err != nil {
		return stores.ImportResult{}, err
	}
	res, err := stores.Admin{DB: s.DB, Table: s.TableName(storesTable), Now: s.cfg.Now}.Import(ctx, f)
	if err != nil {
		return res, fmt.Errorf("import stores: %w", err)
	}
	if s.StoreWebhookSecrets == nil {
		s.StoreWebhookSecrets = map[string]string{}
	}
	for ref, secret := range res.LocalSecrets {
		s.StoreWebhookSecrets[ref] = secret
		// The functions' key source serves them too (the dispatcher signs
		// with them); a deployed key source has no "local:" names.
		s.Keys[secrets.Name(ref)] = secret
	}
	return res, nil
}

// storesTable is the logical id of the stores table in template.yaml.
const storesTable = "StoresTable"

// catalogTable is the logical id of the catalog table in template.yaml.
const catalogTable = "CatalogTable"

// Job builds scheduled function id's job.
func (s *Stack) Job(id string, jobs map[string]lambdarun.JobConstructor) (lambdarun.JobFunc, error) {
	newJob, ok := jobs[id]
	if !ok {
		return nil, fmt.Errorf("function %s has no job registered", id)
	}
	d, err := s.Deps(id)
	if err != nil {
		return nil, err
	}
	job, err := newJob(d)
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", id, err)
	}
	return job, nil
}

// RunSchedules runs every scheduled function of the template in-process
// until ctx ends: each job on its schedule's rate, or every `every` when
// that is positive (local runs want a faster beat than production).
func (s *Stack) RunSchedules(ctx context.Context, jobs map[string]lambdarun.JobConstructor, every time.Duration) error {
	for _, id := range s.Template.FunctionIDs() {
		fn := s.Template.Functions[id]
		if len(fn.Schedules) == 0 {
			continue
		}
		job, err := s.Job(id, jobs)
		if err != nil {
			return err
		}
		interval := every
		if d, ok := s.ScheduleEvery[id]; ok && d > 0 {
			interval = d
		}
		if interval <= 0 {
			if interval, err = samtemplate.Rate(fn.Schedules[0]); err != nil {
				return fmt.Errorf("function %s: %w", id, err)
			}
		}
		entry := lambdarun.JobEntry(id, s.Logger, job)
		go func() {
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					_ = entry(ctx, events.EventBridgeEvent{ID: "local-" + id, Source: "aws.scheduler", DetailType: "Scheduled Event"})
				}
			}
		}()
	}
	return nil
}

// InvokeJob runs scheduled function id's Lambda entry on an EventBridge
// event.
func (s *Stack) InvokeJob(ctx context.Context, id string, jobs map[string]lambdarun.JobConstructor, event []byte) error {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return fmt.Errorf("event is not an EventBridge event: %w", err)
	}
	job, err := s.Job(id, jobs)
	if err != nil {
		return err
	}
	return lambdarun.JobEntry(id, s.Logger, job)(ctx, ev)
}

// InvokeStream runs stream-fed function id's stream work on a DynamoDB
// Streams event.
func (s *Stack) InvokeStream(ctx context.Context, id string, streams map[string]lambdarun.StreamConstructor, event []byte) error {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return fmt.Errorf("event is not a DynamoDB Streams event: %w", err)
	}
	newStream, ok := streams[id]
	if !ok {
		return fmt.Errorf("function %s has no stream work registered", id)
	}
	d, err := s.Deps(id)
	if err != nil {
		return err
	}
	stream, err := newStream(d)
	if err != nil {
		return fmt.Errorf("function %s: %w", id, err)
	}
	return lambdarun.StreamEntry(id, s.Logger, stream)(ctx, ev)
}

// Replicate stores n-1 copies of every item of the given tables (logical
// ids) straight into the embedded engine, copy i with copyIDs(i) applied to
// every string in it: the quick way to a store of n records (benchmarks,
// make load -preload), each copy as the original was written.
func (s *Stack) Replicate(ctx context.Context, n int, copyIDs func(i int) *strings.Replacer, tables ...string) error {
	if s.Minidyn == nil {
		return errors.New("replicate: only the embedded engine")
	}
	for _, logical := range tables {
		table := s.TableName(logical)
		var rows []map[string]*miniserver.AttributeValue
		in := &miniserver.ScanInput{TableName: aws.String(table)}
		for {
			page, err := s.Minidyn.Scan(ctx, in)
			if err != nil {
				return fmt.Errorf("replicate %s: %w", table, err)
			}
			rows = append(rows, page.Items...)
			if len(page.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = page.LastEvaluatedKey
		}
		for i := 1; i < n; i++ {
			r := copyIDs(i)
			for _, row := range rows {
				if _, err := s.Minidyn.PutItem(ctx, &miniserver.PutItemInput{TableName: aws.String(table), Item: replaceItem(row, r)}); err != nil {
					return fmt.Errorf("replicate %s: %w", table, err)
				}
			}
		}
	}
	return nil
}

// replaceItem copies an item with r applied to every string in it.
func replaceItem(it map[string]*miniserver.AttributeValue, r *strings.Replacer) map[string]*miniserver.AttributeValue {
	out := make(map[string]*miniserver.AttributeValue, len(it))
	for k, v := range it {
		out[k] = replaceValue(v, r)
	}
	return out
}

func replaceValue(v *miniserver.AttributeValue, r *strings.Replacer) *miniserver.AttributeValue {
	c := *v
	switch {
	case v.S != nil:
		c.S = aws.String(r.Replace(*v.S))
	case v.M != nil:
		c.M = replaceItem(v.M, r)
	case v.L != nil:
		c.L = make([]*miniserver.AttributeValue, len(v.L))
		for i, e := range v.L {
			c.L[i] = replaceValue(e, r)
		}
	case v.SS != nil:
		c.SS = make([]*string, len(v.SS))
		for i, s := range v.SS {
			c.SS[i] = aws.String(r.Replace(*s))
		}
	}
	return &c
}

// metricsNamespace is the namespace the template gives the functions'
// metrics (one per stack), as resolved locally.
func (s *Stack) metricsNamespace() string {
	for _, fe := range s.env {
		if ns := fe.vars[lambdarun.EnvMetricsNamespace]; ns != "" {
			return ns
		}
	}
	return lambdarun.DefaultNamespace
}
