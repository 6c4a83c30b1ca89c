package httpx_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
)

// A request whose client went away (its context cancelled) and that the
// handler answered from its error path is a client abort: logged at INFO
// with status 499, not as the handler's 5xx at ERROR.
func TestObserveClientAbort(t *testing.T) {
	cancelledCtx, cancel := context.WithCancel(context.Background())
	cancel()
	expiredCtx, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	<-expiredCtx.Done()
	tests := []struct {
		name       string
		ctx        context.Context
		status     int // what the handler writes; -1: it panics
		wantStatus float64
		wantLevel  string
	}{
		{"client gone, 503", cancelledCtx, http.StatusServiceUnavailable, 499, "INFO"},
		{"client gone, handler wrote nothing", cancelledCtx, 0, 200, "INFO"},
		{"client gone after an answer", cancelledCtx, http.StatusOK, 200, "INFO"},
		{"client gone, 400 stays", cancelledCtx, http.StatusBadRequest, 400, "WARN"},
		{"client gone, handler panics", cancelledCtx, -1, 500, "ERROR"},
		{"client here, 503", context.Background(), http.StatusServiceUnavailable, 503, "ERROR"},
		{"our deadline, 503", expiredCtx, http.StatusServiceUnavailable, 503, "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf := newLogger()
			h := httpx.Observe(log, "fn", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status == -1 {
					panic("boom")
				}
				if tt.status != 0 {
					httpx.WriteError(w, tt.status, "x")
				}
			}))
			req := newObservedRequest(http.MethodGet, "/x", "").WithContext(tt.ctx)
			h.ServeHTTP(httptest.NewRecorder(), req)
			lines := requestLines(logLines(t, buf))
			if len(lines) != 1 {
				t.Fatalf("%d request lines, want 1", len(lines))
			}
			f := lines[0].fields
			if f["status"] != tt.wantStatus || f["level"] != tt.wantLevel {
				t.Fatalf("logged status %v at %v, want %v at %s: %s", f["status"], f["level"], tt.wantStatus, tt.wantLevel, lines[0].raw)
			}
		})
	}
}
