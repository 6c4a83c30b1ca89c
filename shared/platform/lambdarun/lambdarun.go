// Package lambdarun is the whole main of every Lambda function: it builds the
// function's dependencies from its environment, its handler (or job) from
// them, and serves invocations. HTTP functions sit behind an API Gateway HTTP
// API (payload format 2.0, through aws-lambda-go-api-proxy); jobs are invoked
// by an EventBridge schedule; a job may also be fed by a DynamoDB stream
// (JobAndStream).
package lambdarun

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
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

// StreamFunc is the work of a function fed by a DynamoDB stream: the
// partition keys (attribute "pk") of the batch's new items (INSERT
// records), in stream order. An error fails the batch: Lambda retries it
// (the function must be idempotent) and finally sends its description to
// the mapping's on-failure destination.
type StreamFunc func(ctx context.Context, keys []string) error

// StreamConstructor builds a stream-fed function's work from its
// dependencies.
type StreamConstructor func(deps.Deps) (StreamFunc, error)

// TrailingSlashParam names the greedy path variable of the routes that
// answer a URL ending in "/": API Gateway keeps no route whose path ends in
// "/", so "/market/" is served by "GET /market/{slash+}", whose variable
// is empty for the page itself. Anything below it was never a page:
// HTTPEntry answers it as API Gateway answers a URL no route names.
const TrailingSlashParam = "slash"

// HTTPEntry adapts h to an HTTP API (payload format 2.0) event. The request
// h serves is aws-lambda-go-api-proxy's conversion of the event, except the
// headers: the proxy splits every header value on commas (v0.16.2,
// core/requestv2.go), which cuts "Stripe-Signature: t=…,v1=…" after t=…,
// so the headers are set again from the event, one value each, as the
// client sent them (API Gateway has already joined repeated headers with
// commas). The route's path parameters, which API Gateway has matched
// against the template's route, are handed to h as r.PathValue.
func HTTPEntry(function string, logger *slog.Logger, h http.Handler) HTTPHandler {
	observed := httpx.Observe(logger, function, h)
	accessor := core.RequestAccessorV2{}
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if ev.PathParameters[TrailingSlashParam] != "" {
			return notFound, nil
		}
		r, err := accessor.EventToRequestWithContext(ctx, ev)
		if err != nil {
			// A path or body API Gateway would not have passed on.
			logger.WarnContext(ctx, "event is not a request", "function", function, "error", err)
			return badRequest, nil
		}
		r.Header = EventHeader(ev)
		for k, v := range ev.PathParameters {
			r.SetPathValue(k, v)
		}
		w := core.NewProxyResponseWriterV2()
		rec := &answered{ResponseWriter: w}
		observed.ServeHTTP(rec, r)
		if !rec.wrote {
			w.WriteHeader(http.StatusOK) // as net/http answers a handler that wrote nothing
		}
		return w.GetProxyResponse()
	}
}

// answered notes whether a handler wrote a status or a body.
type answered struct {
	http.ResponseWriter
	wrote bool
}

func (a *answered) WriteHeader(status int) { a.wrote = true; a.ResponseWriter.WriteHeader(status) }

func (a *answered) Write(b []byte) (int, error) { a.wrote = true; return a.ResponseWriter.Write(b) }

// EventHeader is the request header of an HTTP API event: each header with
// the one value API Gateway passed, and the event's cookies as one Cookie
// header (payload 2.0 moves them out of the headers).
func EventHeader(ev events.APIGatewayV2HTTPRequest) http.Header {
	h := make(http.Header, len(ev.Headers)+1)
	for k, v := range ev.Headers {
		h[textproto.CanonicalMIMEHeaderKey(k)] = []string{v}
	}
	if len(ev.Cookies) > 0 {
		h["Cookie"] = []string{strings.Join(ev.Cookies, "; ")}
	}
	return h
}

// API Gateway's own answers, in its own shape.
var (
	notFound   = gatewayAnswer(http.StatusNotFound, "Not Found")
	badRequest = gatewayAnswer(http.StatusBadRequest, "Bad Request")
)

func gatewayAnswer(status int, message string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       `{"message":"` + message + `"}`,
	}
}

// JobEntry adapts job to an EventBridge event, logging one line per run:
// at Error when the job failed, else at Debug. A schedule runs a job
// whether or not there is work, so the job itself logs at Info what it
// did, when it did something: a run that found nothing to do writes no
// line at Info.
func JobEntry(function string, logger *slog.Logger, job JobFunc) JobHandler {
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		start := time.Now()
		figures := metrics.NewSet()
		err := job(metrics.With(ctx, figures))
		level := slog.LevelDebug
		switch {
		case err != nil:
			level = slog.LevelError
		case !figures.Empty():
			level = slog.LevelInfo // the line carries the run's metrics
		}
		logger.Log(ctx, level, "run", "function", function, "event", ev.ID, "duration", time.Since(start), "error", err, metrics.Attr(figures))
		return err
	}
}

// StreamEntry adapts stream to a DynamoDB Streams event, logging one line
// per batch.
func StreamEntry(function string, logger *slog.Logger, stream StreamFunc) func(context.Context, events.DynamoDBEvent) error {
	return func(ctx context.Context, ev events.DynamoDBEvent) error {
		start := time.Now()
		keys := make([]string, 0, len(ev.Records))
		for _, r := range ev.Records {
			if r.EventName != string(events.DynamoDBOperationTypeInsert) {
				continue // the mapping's filter passes INSERT only; anything else is not new
			}
			if pk, ok := r.Change.Keys["pk"]; ok && pk.DataType() == events.DataTypeString {
				keys = append(keys, pk.String())
			}
		}
		figures := metrics.NewSet()
		err := stream(metrics.With(ctx, figures), keys)
		level := slog.LevelInfo
		if err != nil {
			level = slog.LevelError
		}
		logger.Log(ctx, level, "batch", "function", function, "records", len(ev.Records), "new", len(keys), "duration", time.Since(start), "error", err,
			metrics.Attr(figures))
		return err
	}
}

// JobAndStreamEntry is the entry of a function invoked both by a schedule
// (EventBridge event) and by a DynamoDB stream (an event with Records).
func JobAndStreamEntry(function string, logger *slog.Logger, job JobFunc, stream StreamFunc) func(context.Context, json.RawMessage) error {
	onJob, onStream := JobEntry(function, logger, job), StreamEntry(function, logger, stream)
	return func(ctx context.Context, raw json.RawMessage) error {
		if IsStreamEvent(raw) {
			var ev events.DynamoDBEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				return fmt.Errorf("%s: DynamoDB stream event: %w", function, err)
			}
			return onStream(ctx, ev)
		}
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("%s: EventBridge event: %w", function, err)
		}
		return onJob(ctx, ev)
	}
}

// IsStreamEvent reports whether raw is a DynamoDB Streams event (records
// whose source is aws:dynamodb) rather than a schedule's.
func IsStreamEvent(raw []byte) bool {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	return json.Unmarshal(raw, &probe) == nil && len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:dynamodb"
}

// HTTP is the main of a function behind a route.
func HTTP(function string, newHandler Constructor) {
	d := setup(function)
	h, err := newHandler(d)
	if err != nil {
		d.Logger.Error("handler setup failed", "function", function, "error", err)
		os.Exit(1)
	}
	entry := HTTPEntry(function, d.Logger, h)
	lambda.Start(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		serving(ctx)
		return entry(ctx, ev)
	})
}

// Job is the main of a scheduled function.
func Job(function string, newJob JobConstructor) {
	d := setup(function)
	job, err := newJob(d)
	if err != nil {
		d.Logger.Error("job setup failed", "function", function, "error", err)
		os.Exit(1)
	}
	entry := JobEntry(function, d.Logger, job)
	lambda.Start(func(ctx context.Context, ev events.EventBridgeEvent) error {
		serving(ctx)
		return entry(ctx, ev)
	})
}

// JobAndStream is the main of a function run on a schedule and fed by a
// DynamoDB stream.
func JobAndStream(function string, newJob JobConstructor, newStream StreamConstructor) {
	d := setup(function)
	job, err := newJob(d)
	if err == nil {
		var stream StreamFunc
		if stream, err = newStream(d); err == nil {
			entry := JobAndStreamEntry(function, d.Logger, job, stream)
			lambda.Start(func(ctx context.Context, raw json.RawMessage) error {
				serving(ctx)
				return entry(ctx, raw)
			})
			return
		}
	}
	d.Logger.Error("job setup failed", "function", function, "error", err)
	os.Exit(1)
}

func setup(function string) deps.Deps {
	d, err := deps.FromEnv(context.Background(), nil)
	if err != nil {
		deps.NewLogger(os.Stderr, "").Error("function setup failed", "function", function, "error", err)
		os.Exit(1)
	}
	// Every line carries the invocation's request and trace ids, and the
	// per-request line its metrics as EMF (LogHandler).
	d.Logger = slog.New(LogHandler(d.Logger.Handler(), os.Getenv(EnvMetricsNamespace), nil))
	// Code that logs without a logger of its own (slog's default) writes
	// the same JSON lines as the rest.
	slog.SetDefault(d.Logger)
	return d
}
