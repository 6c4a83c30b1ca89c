package delivery_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/logtest"
)

// A shutdown (the run's context cancelled, as on SIGTERM) during an
// attempt is no error: it is logged at INFO, no attempt is counted, and the
// event is due again at once; the next run delivers it, once.
func TestShutdownDuringAttempt(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			f := setup(t, b, 0)
			var logs logtest.Buffer
			f.d.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var interrupt atomic.Bool
			interrupt.Store(true)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if interrupt.Load() {
					_, _ = io.Copy(io.Discard, r.Body) // (so the server notices the client's going)
					cancel()                           // SIGTERM while the receiver is answering
					<-r.Context().Done()
					return
				}
				f.recv.ServeHTTP(w, r)
			}))
			defer srv.Close()
			url := srv.URL
			d := f.dispatcher(url)
			d.Logger = f.d.Logger
			ids := f.enqueue(t, 2)
			if _, err := d.Run(ctx, 10); err != nil && !strings.Contains(err.Error(), "context canceled") {
				t.Fatalf("run: %v", err)
			}
			for _, l := range logs.TakeLines(t) {
				if l["level"] == "ERROR" || l["level"] == "WARN" {
					t.Errorf("logged %v", l)
				}
				if msg, _ := l["msg"].(string); strings.Contains(msg, "interrupted") && l["level"] != "INFO" {
					t.Errorf("interruption logged at %v", l["level"])
				}
			}
			s := f.status(t, ids[0])
			if s.Status != "pending" || s.Attempts != 0 || s.DueAt.After(f.clock.Now()) {
				t.Fatalf("after the interruption: %+v, want pending, no attempt counted, due now", s)
			}
			interrupt.Store(false)
			if st, err := d.Run(context.Background(), 10); err != nil || st.Delivered != 2 {
				t.Fatalf("next run: %+v %v", st, err)
			}
			for _, id := range ids {
				if n := f.recv.count(id); n != 1 {
					t.Errorf("%s received %d times", id, n)
				}
			}
		})
	}
}
