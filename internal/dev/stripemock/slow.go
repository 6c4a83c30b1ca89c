package stripemock

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// Slow is a proxy in front of stripe-mock at target that holds every POST
// whose path starts with prefix (such as /v1/payment_intents) until the
// client gives up — a Stripe slower than any client timeout — and passes
// everything else on. Held counts the requests it held. It is closed when
// the test ends.
type Slow struct {
	URL  string
	held atomic.Int32
}

// NewSlow starts a Slow proxy.
func NewSlow(t testing.TB, target, prefix string) *Slow {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	s := &Slow{}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, prefix) {
			proxy.ServeHTTP(w, r)
			return
		}
		s.held.Add(1)
		// With the body read, the server notices the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // before Close, which waits for held requests
	s.URL = srv.URL
	return s
}

// Held is the number of requests held so far.
func (s *Slow) Held() int { return int(s.held.Load()) }
