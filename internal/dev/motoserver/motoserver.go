// Package motoserver starts moto_server (Python moto's AWS emulator: DynamoDB
// and Secrets Manager) on a free loopback port, for the tests and the load
// tool.
package motoserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// ErrNotInstalled means moto_server is not on PATH.
var ErrNotInstalled = errors.New("moto_server not found on PATH (install Python moto with its server extra)")

// serial serves moto_server's application one request at a time. moto does
// not isolate concurrent TransactWriteItems (on moto_server's own threaded
// server, 50 concurrent identical conditional transactions granted 4 times),
// while DynamoDB serializes conflicting transactions. A lock around the
// application restores that; the server stays threaded (HTTP/1.1,
// keep-alive), since its single-threaded mode speaks HTTP/1.0 and drops
// connections under the SDK.
const serial = `import sys, threading
from werkzeug.serving import run_simple
from moto.server import DomainDispatcherApplication, create_backend_app
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
def serial(environ, start_response):
    with lock:
        return list(app(environ, start_response))
run_simple(sys.argv[1], int(sys.argv[2]), serial, threaded=True)
`

// Server is a running moto_server.
type Server struct {
	URL string
	cmd *exec.Cmd
}

// Start starts moto_server and waits (at most a minute) until it answers.
func Start(ctx context.Context) (*Server, error) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		return nil, ErrNotInstalled
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		return nil, errors.New("python3 (moto's interpreter) not found on PATH")
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(python, "-c", serial, "127.0.0.1", fmt.Sprint(port)) //nolint:noctx // a server outliving the call that starts it (CommandContext would kill it when ctx ends); its Stop ends it
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION=us-east-1")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/", nil)
		if err != nil {
			break // not for a URL of this form; stopped below
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("moto_server did not answer on %s within a minute", s.URL)
}

// Stop ends the server.
func (s *Server) Stop() {
	if s != nil && s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}
