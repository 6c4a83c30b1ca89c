// Package ddbtest runs tests against real DynamoDB emulators: embedded minidyn
// always, and moto_server (started on a free loopback port, once per test
// binary) when it is installed. With CI=true a missing moto_server fails the
// tests instead of skipping them. It also provides an SDK HTTP client that
// counts DynamoDB calls and injects faults.
package ddbtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/localenv"
)

// Backend is a DynamoDB emulator a test runs against.
type Backend struct {
	Name     string
	Endpoint string // "" means a fresh embedded minidyn per stack
}

var (
	motoOnce sync.Once
	motoURL  string
	motoErr  error
	motoCmd  *exec.Cmd
	seq      atomic.Int64
)

// Main runs the tests of a package and stops moto_server afterwards. Use it
// from TestMain: func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if motoCmd != nil && motoCmd.Process != nil {
		_ = motoCmd.Process.Kill()
		_ = motoCmd.Wait()
	}
	return code
}

// Backends returns the emulators to run against: minidyn, and moto when
// available (see package doc).
func Backends(t testing.TB) []Backend {
	bs := []Backend{{Name: "minidyn"}}
	if url, ok := Moto(t); ok {
		bs = append(bs, Backend{Name: "moto", Endpoint: url})
	}
	return bs
}

// Moto returns the endpoint of the shared moto_server, starting it on first
// use. It reports false (after logging why) when moto_server is not
// installed; with CI=true that fails the test instead.
func Moto(t testing.TB) (string, bool) {
	t.Helper()
	motoOnce.Do(startMoto)
	if motoErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto_server is required when CI=true: %v", motoErr)
		}
		t.Logf("SKIPPING the moto_server backend: %v (install moto to run the full suite)", motoErr)
		return "", false
	}
	return motoURL, true
}

// motoSerial serves moto_server's application one request at a time.
// moto does not isolate concurrent TransactWriteItems (on moto_server's own
// threaded server, 50 concurrent identical conditional transactions granted
// 4 times), while DynamoDB serializes conflicting transactions. A lock
// around the application restores that; the server stays threaded (HTTP/1.1,
// keep-alive), since its single-threaded mode speaks HTTP/1.0 and drops
// connections under the SDK.
const motoSerial = `import sys, threading
from werkzeug.serving import run_simple
from moto.server import DomainDispatcherApplication, create_backend_app
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
def serial(environ, start_response):
    with lock:
        return list(app(environ, start_response))
run_simple(sys.argv[1], int(sys.argv[2]), serial, threaded=True)
`

func startMoto() {
	if _, err := exec.LookPath("moto_server"); err != nil {
		motoErr = fmt.Errorf("moto_server not found on PATH")
		return
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		motoErr = fmt.Errorf("python3 (moto's interpreter) not found on PATH")
		return
	}
	port, err := freePort()
	if err != nil {
		motoErr = err
		return
	}
	cmd := exec.Command(python, "-c", motoSerial, "127.0.0.1", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_DEFAULT_REGION=us-east-1")
	if err := cmd.Start(); err != nil {
		motoErr = fmt.Errorf("start moto_server: %w", err)
		return
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			motoURL, motoCmd = url, cmd
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	motoErr = fmt.Errorf("moto_server did not answer on %s within 60s", url)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// StackOptions tune NewStack.
type StackOptions struct {
	Env         map[string]string // extra environment (keys, settings)
	Transport   *Transport        // counts calls / injects faults; nil: none
	MaxAttempts int
	Now         func() time.Time
	Catalog     []byte // a catalog file imported at start
}

// NewStack stands up a local Tollgate on backend b with its own tables,
// closed when the test ends.
func NewStack(t testing.TB, b Backend, o StackOptions) *localenv.Stack {
	t.Helper()
	cfg := localenv.Config{
		Endpoint:    b.Endpoint,
		Getenv:      func(k string) string { return o.Env[k] },
		Logger:      localenv.Discard,
		MaxAttempts: o.MaxAttempts,
		Now:         o.Now,
		Catalog:     o.Catalog,
	}
	if b.Endpoint != "" {
		name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
		if len(name) > 100 {
			name = name[:100]
		}
		cfg.TablePrefix = fmt.Sprintf("t%d-%s-", seq.Add(1), name)
	}
	if o.Transport != nil {
		cfg.HTTPClient = o.Transport
	}
	s, err := localenv.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start local stack on %s: %v", b.Name, err)
	}
	t.Cleanup(s.Close)
	return s
}
