package localenv

import (
	"net/http"
	"time"
)

// Timeouts of the local server (cmd/local). Without them a client that
// stalls mid-request holds its connection and goroutine forever; API
// Gateway, which fronts the deployed functions, has its own limits.
const (
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading a whole request, body included: bodies are
	// at most tens of KiB, so 30s is only reached by a stalled client.
	ReadTimeout = 30 * time.Second
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its answer, as API Gateway's 30s integration timeout does.
	WriteTimeout = 30 * time.Second
	// IdleTimeout bounds a kept-alive connection waiting for its next request.
	IdleTimeout = 120 * time.Second
)

// ServerTimeouts are the limits NewServer sets; tests shorten them.
type ServerTimeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// DefaultServerTimeouts are the local server's limits.
var DefaultServerTimeouts = ServerTimeouts{
	ReadHeader: ReadHeaderTimeout, Read: ReadTimeout, Write: WriteTimeout, Idle: IdleTimeout,
}

// NewServer returns the HTTP server for h with every timeout of t set.
func NewServer(h http.Handler, t ServerTimeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
	}
}
