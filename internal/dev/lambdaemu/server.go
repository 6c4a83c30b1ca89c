// Package lambdaemu runs a function's real Lambda binary (its bootstrap) on
// this machine: a Lambda Runtime API (2018-06-01) served on a loopback port
// hands the process its events and takes its answers, and the process is
// measured as the Lambda service would see it (start to first answer, peak
// resident memory). cmd/lambdaemu (make coldstart) and cmd/invoke -binary
// (make invoke BINARY=1) use it.
package lambdaemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The Runtime API's paths.
const (
	pathPrefix = "/2018-06-01/runtime/"
	pathNext   = pathPrefix + "invocation/next"
)

// Result is what the runtime answered to one invocation.
type Result struct {
	Payload   []byte    // the response, or the error document
	Error     bool      // posted to .../error rather than .../response
	ErrorType string    // Lambda-Runtime-Function-Error-Type of an error
	At        time.Time // when the answer arrived
}

// invocation is one event waiting for, or handed to, the runtime.
type invocation struct {
	id       string
	event    []byte
	deadline time.Time
	done     chan Result // buffered: one answer
}

// Server is a Lambda Runtime API for one runtime process.
type Server struct {
	// FunctionName names the function in the invoked function ARN.
	FunctionName string
	// Timeout is the invocation deadline handed to the runtime (the
	// template's Timeout); 0 means 10s.
	Timeout time.Duration

	ln     net.Listener
	srv    *http.Server
	queue  chan *invocation
	closed chan struct{}

	mu        sync.Mutex
	pending   map[string]*invocation // handed out, not yet answered
	firstNext time.Time              // when the runtime first asked for an event
	initErr   *Result
}

// NewServer listens on a free loopback port and serves the Runtime API.
func NewServer(functionName string) (*Server, error) {
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the runtime API: %w", err)
	}
	s := &Server{
		FunctionName: functionName,
		ln:           ln,
		queue:        make(chan *invocation, 16),
		closed:       make(chan struct{}),
		pending:      map[string]*invocation{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+pathNext, s.next)
	mux.HandleFunc("POST "+pathPrefix+"invocation/{id}/response", s.answer(false))
	mux.HandleFunc("POST "+pathPrefix+"invocation/{id}/error", s.answer(true))
	mux.HandleFunc("POST "+pathPrefix+"init/error", s.initError)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the value of AWS_LAMBDA_RUNTIME_API (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving; a runtime waiting for an event gets an error.
func (s *Server) Close() {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	_ = s.srv.Close()
}

// FirstNext returns when the runtime first asked for an event (the end of
// its init), or the zero time.
func (s *Server) FirstNext() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstNext
}

// InitError returns what the runtime posted to init/error, if anything.
func (s *Server) InitError() *Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initErr
}

// Enqueue queues event for the runtime and returns a channel that receives
// its answer.
func (s *Server) Enqueue(event []byte) (<-chan Result, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	inv := &invocation{id: newID(), event: event, deadline: time.Now().Add(timeout), done: make(chan Result, 1)}
	select {
	case s.queue <- inv:
		return inv.done, nil
	default:
		return nil, errors.New("runtime API: too many queued invocations")
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.firstNext.IsZero() {
		s.firstNext = time.Now()
	}
	s.mu.Unlock()
	var inv *invocation
	select {
	case inv = <-s.queue:
	case <-s.closed:
		http.Error(w, "runtime API closed", http.StatusGone)
		return
	case <-r.Context().Done():
		return
	}
	s.mu.Lock()
	s.pending[inv.id] = inv
	s.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:"+s.FunctionName)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.event)
}

func (s *Server) answer(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 6<<20)) // Lambda's synchronous payload limit
		at := time.Now()
		if err != nil {
			http.Error(w, "could not read the payload", http.StatusBadRequest)
			return
		}
		id := r.PathValue("id")
		s.mu.Lock()
		inv, ok := s.pending[id]
		delete(s.pending, id)
		s.mu.Unlock()
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`)
			return
		}
		inv.done <- Result{Payload: body, Error: isError, ErrorType: r.Header.Get("Lambda-Runtime-Function-Error-Type"), At: at}
		accepted(w)
	}
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	s.initErr = &Result{Payload: body, Error: true, ErrorType: r.Header.Get("Lambda-Runtime-Function-Error-Type"), At: time.Now()}
	s.mu.Unlock()
	accepted(w)
}

func accepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b[:4]) + "-" + hex.EncodeToString(b[4:6]) + "-" + hex.EncodeToString(b[6:8]) + "-" +
		hex.EncodeToString(b[8:10]) + "-" + hex.EncodeToString(b[10:])
}

// wait returns the answer on done, or fails when ctx ends or the process
// exits first.
func wait(ctx context.Context, done <-chan Result, exited <-chan struct{}, exitErr func() error) (Result, error) {
	select {
	case r := <-done:
		return r, nil
	case <-exited:
		select {
		case r := <-done: // answered just before exiting
			return r, nil
		default:
		}
		return Result{}, fmt.Errorf("the runtime exited before answering: %v", exitErr()) //nolint:errorlint // the exit status may be nil (a clean exit)
	case <-ctx.Done():
		return Result{}, fmt.Errorf("no answer from the runtime: %w", ctx.Err())
	}
}
