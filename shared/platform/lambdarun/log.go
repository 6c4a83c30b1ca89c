package lambdarun

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
)

// EnvMetricsNamespace names the CloudWatch namespace of the stack's
// metrics (the template sets it per stack).
const EnvMetricsNamespace = "METRICS_NAMESPACE"

// DefaultNamespace is the metrics' namespace when EnvMetricsNamespace is
// unset (local runs without the template's environment).
const DefaultNamespace = "Tollgate/local"

// Log attributes the handler adds.
const (
	AttrRequestID = "requestId" // Lambda's request id of the invocation
	AttrTraceID   = "traceId"   // X-Ray's trace header (_X_AMZN_TRACE_ID), sampled or not
)

// LogHandler wraps inner so that every line carries the invocation's
// request id and trace id (from the context the line is logged with, or,
// in Lambda, the invocation being served), and a line carrying a
// metrics.Set (metrics.Attr) carries it as CloudWatch Embedded Metric
// Format under namespace: the _aws member, the Function dimension (the
// line's "function") and each figure at the top level. A Set that does not
// fit one line adds lines of its own ("metrics"). tally, when set, sums
// every Set rendered (make run's summary).
func LogHandler(inner slog.Handler, namespace string, tally *metrics.Tally) slog.Handler {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	return &logHandler{inner: inner, namespace: namespace, tally: tally}
}

type logHandler struct {
	inner     slog.Handler
	namespace string
	tally     *metrics.Tally
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{inner: h.inner.WithAttrs(attrs), namespace: h.namespace, tally: h.tally}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{inner: h.inner.WithGroup(name), namespace: h.namespace, tally: h.tally}
}

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	requestID, traceID := invocationIDs(ctx)
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	var set *metrics.Set
	function := ""
	r.Attrs(func(a slog.Attr) bool {
		if s, ok := a.Value.Any().(*metrics.Set); ok && a.Key == metrics.Key {
			set = s
			return true
		}
		if a.Key == "function" {
			function = a.Value.String()
		}
		out.AddAttrs(a)
		return true
	})
	ids := make([]slog.Attr, 0, 2)
	if requestID != "" {
		ids = append(ids, slog.String(AttrRequestID, requestID))
	}
	if traceID != "" {
		ids = append(ids, slog.String(AttrTraceID, traceID))
	}
	out.AddAttrs(ids...)
	if set.Empty() {
		return h.inner.Handle(ctx, out)
	}
	if h.tally != nil {
		h.tally.Add(set)
	}
	docs := set.Render(h.namespace, function, r.Time)
	out.AddAttrs(slog.Any("_aws", docs[0].AWS))
	out.AddAttrs(docs[0].Members...)
	err := h.inner.Handle(ctx, out)
	for _, d := range docs[1:] {
		more := slog.NewRecord(r.Time, r.Level, "metrics", r.PC)
		more.AddAttrs(slog.String("function", function))
		more.AddAttrs(ids...)
		more.AddAttrs(slog.Any("_aws", d.AWS))
		more.AddAttrs(d.Members...)
		if e := h.inner.Handle(ctx, more); err == nil {
			err = e
		}
	}
	return err
}

// invocation is the request and trace ids of the invocation a Lambda
// process serves (one at a time): for lines logged without its context.
type invocation struct{ requestID, traceID string }

var current atomic.Pointer[invocation]

// serving notes the invocation of ctx as the one being served (Lambda
// only: a local process serves many at once and never calls it).
func serving(ctx context.Context) {
	id, trace := idsOf(ctx)
	current.Store(&invocation{requestID: id, traceID: trace})
}

// invocationIDs are the request and trace ids of ctx, else of the
// invocation being served.
func invocationIDs(ctx context.Context) (string, string) {
	id, trace := idsOf(ctx)
	if id == "" {
		if c := current.Load(); c != nil {
			return c.requestID, c.traceID
		}
	}
	return id, trace
}

// traceKey is the context key aws-lambda-go stores the trace header under.
const traceKey = "x-amzn-trace-id"

func idsOf(ctx context.Context) (requestID, traceID string) {
	if ctx == nil {
		return "", ""
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	traceID, _ = ctx.Value(traceKey).(string)
	if traceID == "" && requestID != "" {
		traceID = os.Getenv("_X_AMZN_TRACE_ID") // set by the runtime per invocation
	}
	return requestID, traceID
}

// WithTrace returns ctx carrying trace as the invocation's trace header,
// where aws-lambda-go puts it (the local API Gateway does as Lambda does).
func WithTrace(ctx context.Context, trace string) context.Context {
	//lint:ignore SA1029 aws-lambda-go's own key is this plain string
	return context.WithValue(ctx, traceKey, trace) //nolint:staticcheck,revive // SA1029: as above
}
