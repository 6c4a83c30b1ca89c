package ddbtest

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// Canned is an SDK HTTP client for CPU benchmarks of handlers: it forwards
// every call to a real emulator until Cut, and from then on answers every
// DynamoDB call in-process with 200 and an empty JSON object ({}), which is a
// success for TransactWriteItems, PutItem and UpdateItem (and "no item" for a
// read). It is not a fake store: it only takes the network out of a benchmark
// once the stack has started, its tables exist and the caches are warm.
type Canned struct {
	Base *http.Client
	cut  atomic.Bool
}

// NewCanned returns a Canned forwarding over an HTTP client of its own.
func NewCanned() *Canned {
	return &Canned{Base: &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}}
}

// Cut stops forwarding: every later call is answered in-process.
func (c *Canned) Cut() { c.cut.Store(true) }

// Do implements aws.HTTPClient.
func (c *Canned) Do(req *http.Request) (*http.Response, error) {
	if !c.cut.Load() {
		return c.Base.Do(req)
	}
	if req.Body != nil {
		// A transport reads the whole body onto the wire.
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Status:        "200 OK",
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:          io.NopCloser(strings.NewReader("{}")),
		ContentLength: 2,
		Request:       req,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
	}, nil
}
