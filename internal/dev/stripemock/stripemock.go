// Package stripemock starts stripe-mock (Stripe's stateless API mock: it
// validates each request against Stripe's OpenAPI document and answers
// fixtures) on a free loopback port, for the Stripe adapter's tests. The
// binary is the pinned version under .build/tools (make tools installs it),
// installed there with go install when missing.
package stripemock

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
)

// Version is the pinned stripe-mock, as STRIPE_MOCK_VERSION in the Makefile.
const Version = "v0.203.0"

// Module is stripe-mock's Go module.
const Module = "github.com/stripe/stripe-mock"

// ErrNotInstalled means the binary was not found and could not be installed.
var ErrNotInstalled = errors.New("stripe-mock " + Version + " not installed (run make tools)")

// Server is a running stripe-mock.
type Server struct {
	URL    string // the API base, e.g. http://127.0.0.1:41234
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited
}

// Binary finds the pinned binary under <module root>/.build/tools, or
// installs it there with go install.
func Binary(ctx context.Context) (string, error) {
	root, err := samtemplate.Root()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, ".build", "tools", "stripe-mock-"+Version)
	bin := filepath.Join(dir, "stripe-mock")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	// Install into a private directory and rename, so two test binaries
	// installing at once never run a half-written file.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(dir, "install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "install", Module+"@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: go install %s@%s: %w: %s", ErrNotInstalled, Module, Version, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "stripe-mock"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// Start starts stripe-mock on a free port and waits until it answers. The
// port is free when chosen but may be taken before stripe-mock binds it
// (another test binary choosing at the same moment): a stripe-mock that
// exits before answering is started again on another port. The wait is
// long because parallel test binaries on two cores can starve its start.
func Start(ctx context.Context) (*Server, error) {
	bin, err := Binary(ctx)
	if err != nil {
		return nil, err
	}
	var last error
	for try := 0; try < 3; try++ {
		s, err := startOnce(ctx, bin, 3*time.Minute)
		if err == nil {
			return s, nil
		}
		last = err
	}
	return nil, last
}

func startOnce(ctx context.Context, bin string, wait time.Duration) (*Server, error) {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	// The HTTPS listener (unused) on a port the system chooses: left to
	// its default, 12112, two stripe-mocks (two test binaries) collide.
	cmd := exec.Command(bin, "-http-addr", addr, "-https-addr", "127.0.0.1:") //nolint:noctx // a server outliving the call that starts it (CommandContext would kill it when ctx ends); its Stop ends it
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start stripe-mock: %w", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	s := &Server{URL: "http://" + addr, cmd: cmd, exited: exited}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-exited:
			return nil, fmt.Errorf("stripe-mock on %s exited before answering: %v", addr, waitErr) //nolint:errorlint // waitErr is nil after a clean exit
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/v1/balance", nil)
		req.Header.Set("Authorization", "Bearer sk_test_stripemock")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("stripe-mock did not answer on %s within %s", s.URL, wait)
}

// Stop ends the server.
func (s *Server) Stop() {
	if s != nil && s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Main is a test package's TestMain body: it starts stripe-mock, sets *url
// to its address (empty when it is unavailable outside CI), runs the tests
// and stops it. With CI=true a missing or failing stripe-mock fails the
// package; otherwise its tests skip (see Require).
func Main(m *testing.M, url *string) int {
	flag.Parse()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		// Fuzzing runs the package in many worker processes, for a target
		// that needs no stripe-mock.
		startErr = errors.New("not started while fuzzing")
		return m.Run()
	}
	s, err := Start(context.Background())
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "stripe-mock is required in CI: %v\n", err)
			return 1
		}
		startErr = err
		return m.Run()
	}
	defer s.Stop()
	*url = s.URL
	return m.Run()
}

var startErr error

// Require skips t when stripe-mock could not be started (outside CI).
func Require(t testing.TB, url string) {
	t.Helper()
	if url == "" {
		t.Skipf("stripe-mock unavailable, Stripe adapter not tested against it: %v", startErr)
	}
}
