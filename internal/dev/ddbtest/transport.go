package ddbtest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Fault is what Transport does to one DynamoDB call.
type Fault int

// Faults. The first three never reach the store; LoseResponse lets the call
// reach the store (a write is applied) and then loses the answer, the case
// that double-grants in systems whose retries are not idempotent.
const (
	NoFault      Fault = iota
	Fail500            // 500 InternalServerError
	Throttle           // 400 ThrottlingException
	Timeout            // a network timeout
	LoseResponse       // applied, then the connection is reset before the answer
)

func (f Fault) String() string {
	return [...]string{"none", "500", "throttle", "timeout", "lost-response"}[f]
}

// AllFaults lists every fault, for sweeps.
var AllFaults = []Fault{Fail500, Throttle, Timeout, LoseResponse}

// Transport is an SDK HTTP client that records every DynamoDB call (each
// attempt is one round trip) and injects faults chosen by a callback.
type Transport struct {
	Base *http.Client

	mu     sync.Mutex
	calls  []string
	inject func(call int, op string) Fault
}

// NewTransport returns a Transport over an HTTP client of its own (not
// http.DefaultTransport, whose idle connections other tests close).
func NewTransport() *Transport {
	return &Transport{Base: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
}

// Inject sets the fault callback: call is the 1-based number of the call
// since the last Reset, op the DynamoDB operation. nil clears it.
func (t *Transport) Inject(f func(call int, op string) Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.inject = f
}

// Reset forgets the recorded calls.
func (t *Transport) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = nil
}

// Calls returns the operations called since the last Reset, in order.
func (t *Transport) Calls() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.calls...)
}

// Do implements aws.HTTPClient.
func (t *Transport) Do(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	t.mu.Lock()
	t.calls = append(t.calls, op)
	n := len(t.calls)
	fault := NoFault
	if t.inject != nil {
		fault = t.inject(n, op)
	}
	t.mu.Unlock()

	switch fault {
	case Fail500:
		drain(req)
		return errorResponse(req, http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", "injected failure"), nil
	case Throttle:
		drain(req)
		return errorResponse(req, http.StatusBadRequest, "com.amazonaws.dynamodb.v20120810#ThrottlingException", "injected throttling"), nil
	case Timeout:
		drain(req)
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}
	case LoseResponse:
		resp, err := t.Base.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	resp, err := t.Base.Do(req)
	if err != nil {
		return nil, err
	}
	// Read the whole answer here: net/http may otherwise close the
	// connection while the SDK still reads a large body (aws-sdk-go-v2
	// issues 1825 and 2737), and the SDK's retry would count one call twice.
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func drain(req *http.Request) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
}

func errorResponse(req *http.Request, status int, typ, msg string) *http.Response {
	body := `{"__type":"` + typ + `","message":"` + msg + `"}`
	return &http.Response{
		StatusCode:    status,
		Status:        http.StatusText(status),
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:          io.NopCloser(bytes.NewBufferString(body)),
		ContentLength: int64(len(body)),
		Request:       req,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout (injected)" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// At is the injection that gives fault to call n only (calls count from 1).
func At(n int, fault Fault) func(call int, op string) Fault {
	return func(call int, _ string) Fault {
		if call == n {
			return fault
		}
		return NoFault
	}
}

// Sweep runs run once per call of a clean run (calls, as Transport.Calls
// listed them) and per fault of AllFaults, each as its own subtest, with
// the injection that fails that call only.
func Sweep(t *testing.T, calls []string, run func(t *testing.T, inject func(call int, op string) Fault)) {
	t.Helper()
	if len(calls) == 0 {
		t.Fatal("a sweep of no DynamoDB calls: the clean run made none")
	}
	for n, op := range calls {
		for _, fault := range AllFaults {
			t.Run(fmt.Sprintf("call %d %s %s", n+1, op, fault), func(t *testing.T) { run(t, At(n+1, fault)) })
		}
	}
}
