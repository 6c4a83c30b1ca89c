package httpx

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tollgate-dev/tollgate/shared/ddbcalls"
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
//
// dynamodbCalls is the number of DynamoDB round trips the request made (every
// attempt, retries included): h runs with a ddbcalls.Counter in its request
// context, which the DynamoDB client built by store.NewClient adds to.
func Observe(logger *slog.Logger, function string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		calls := &ddbcalls.Counter{}
		r = r.WithContext(ddbcalls.WithCounter(r.Context(), calls))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			attrs := make([]slog.Attr, 0, 9)
			if p := recover(); p != nil {
				attrs = append(attrs, slog.String("panic", fmt.Sprint(p)))
				if rec.status == 0 {
					WriteError(rec, http.StatusInternalServerError, "internal error")
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK // what net/http sends for a handler that wrote nothing
			}
			attrs = append(attrs,
				slog.String("function", function),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
				slog.Int("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.Int("dynamodbCalls", calls.Total()),
			)
			logger.LogAttrs(r.Context(), levelFor(rec.status), "request", attrs...)
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
