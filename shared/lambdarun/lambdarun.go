// Package lambdarun is the whole main of every Lambda function: it builds the
// function's dependencies from its environment, its handler (or job) from
// them, and serves invocations. HTTP functions sit behind an API Gateway HTTP
// API (payload format 2.0, through aws-lambda-go-api-proxy); jobs are invoked
// by an EventBridge schedule.
package lambdarun

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/httpx"
)

// HTTPHandler is the signature of an HTTP API Lambda entry.
type HTTPHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// JobHandler is the signature of a scheduled Lambda entry.
type JobHandler func(context.Context, events.EventBridgeEvent) error

// Constructor builds a function's handler from its dependencies.
type Constructor func(deps.Deps) (http.Handler, error)

// JobFunc is the work of a function run on a schedule rather than behind a
// route.
type JobFunc func(ctx context.Context) error

// JobConstructor builds a scheduled function's job from its dependencies.
type JobConstructor func(deps.Deps) (JobFunc, error)

type pathParamsKey struct{}

// HTTPEntry adapts h to an HTTP API event. The route's path parameters, which
// API Gateway has already matched against the template's route, are handed
// to h as r.PathValue, exactly as the local runner's ServeMux does.
func HTTPEntry(function string, logger *slog.Logger, h http.Handler) HTTPHandler {
	observed := httpx.Observe(logger, function, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if params, ok := r.Context().Value(pathParamsKey{}).(map[string]string); ok {
			for k, v := range params {
				r.SetPathValue(k, v)
			}
		}
		h.ServeHTTP(w, r)
	}))
	adapter := httpadapter.NewV2(observed)
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return adapter.ProxyWithContext(context.WithValue(ctx, pathParamsKey{}, ev.PathParameters), ev)
	}
}

// JobEntry adapts job to an EventBridge event, logging one line per run.
func JobEntry(function string, logger *slog.Logger, job JobFunc) JobHandler {
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		start := time.Now()
		err := job(ctx)
		level := slog.LevelInfo
		if err != nil {
			level = slog.LevelError
		}
		logger.Log(ctx, level, "run", "function", function, "event", ev.ID, "duration", time.Since(start), "error", err)
		return err
	}
}

// HTTP is the main of a function behind a route.
func HTTP(function string, newHandler Constructor) {
	d := setup(function)
	h, err := newHandler(d)
	if err != nil {
		d.Logger.Error("handler setup failed", "function", function, "error", err)
		os.Exit(1)
	}
	lambda.Start(HTTPEntry(function, d.Logger, h))
}

// Job is the main of a scheduled function.
func Job(function string, newJob JobConstructor) {
	d := setup(function)
	job, err := newJob(d)
	if err != nil {
		d.Logger.Error("job setup failed", "function", function, "error", err)
		os.Exit(1)
	}
	lambda.Start(JobEntry(function, d.Logger, job))
}

func setup(function string) deps.Deps {
	d, err := deps.FromEnv(context.Background(), nil)
	if err != nil {
		deps.NewLogger(os.Stderr, "").Error("function setup failed", "function", function, "error", err)
		os.Exit(1)
	}
	// Code that logs without a logger of its own (slog's default) writes
	// the same JSON lines as the rest.
	slog.SetDefault(d.Logger)
	return d
}
