package httpx

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
)

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Observe wraps h so that every request leaves exactly one JSON log line
// (function, method, path, status, bytes, duration, dynamodbCalls) and a panic
// in h becomes a 500 whose log line carries the panic, instead of a crashed
// process. Header values and bodies are never logged: they may carry keys.
// A 5xx answered after the client went away (the request's context
// cancelled) is logged as a client abort: status StatusClientClosed (499),
// clientGone, at INFO.
//
// dynamodbCalls is the number of DynamoDB round trips the request made (every
// attempt, retries included): h runs with a ddbcalls.Counter in its request
// context, which the DynamoDB client built by dynamo.NewClient adds to.
//
// The line also carries the request's metrics (a metrics.Set in its
// context, which domain code adds figures to), rendered as CloudWatch
// Embedded Metric Format by lambdarun.LogHandler.
func Observe(logger *slog.Logger, function string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		calls := &ddbcalls.Counter{}
		figures := metrics.NewSet()
		r = r.WithContext(metrics.With(ddbcalls.WithCounter(r.Context(), calls), figures))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			attrs := make([]slog.Attr, 0, 11)
			p := recover()
			if p != nil {
				attrs = append(attrs, slog.String("panic", fmt.Sprint(p)))
				if rec.status == 0 {
					WriteError(rec, http.StatusInternalServerError, "internal error")
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK // what net/http sends for a handler that wrote nothing
			}
			status, level := rec.status, levelFor(rec.status)
			// A 5xx answered to a client that had gone is the handler's error
			// path run by the cancellation, not a failure of Tollgate.
			if status >= 500 && p == nil && failure.Gone(r.Context()) {
				status, level = StatusClientClosed, slog.LevelInfo
				attrs = append(attrs, slog.Bool("clientGone", true))
			}
			attrs = append(attrs,
				slog.String("function", function),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.Int("dynamodbCalls", calls.Total()),
				metrics.Attr(figures),
			)
			logger.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		h.ServeHTTP(rec, r)
	})
}

func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	default:
		return slog.LevelInfo
	}
}
