// Package ddbtest runs tests against real DynamoDB emulators: embedded minidyn
// always, and moto_server (started on a free loopback port, once per test
// binary) when it is installed. With CI=true a missing moto_server fails the
// tests instead of skipping them. It also provides an SDK HTTP client that
// counts DynamoDB calls and injects faults, and builds functions' handlers
// on a stack as the local runner does (NewEnv, NewFunction).
package ddbtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/iampolicy"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/motoserver"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
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
	moto     *motoserver.Server
	seq      atomic.Int64
)

// Main runs the tests of a package and stops moto_server afterwards. Use it
// from TestMain: func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	moto.Stop()
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

func startMoto() {
	moto, motoErr = motoserver.Start(context.Background())
	if motoErr == nil {
		motoURL = moto.URL
	}
}

// StackOptions tune NewStack.
type StackOptions struct {
	Env         map[string]string // extra environment (keys, settings)
	Transport   *Transport        // counts calls / injects faults; nil: none
	MaxAttempts int
	Now         func() time.Time
	Catalog     []byte       // a catalog file imported at start
	Stores      []byte       // a stores file imported at start
	Logger      *slog.Logger // the stack's and its functions' logger; nil: discard
}

// NewStack stands up a local Tollgate on backend b with its own tables,
// closed when the test ends.
func NewStack(t testing.TB, b Backend, o StackOptions) *localenv.Stack {
	t.Helper()
	cfg := localenv.Config{
		Endpoint:    b.Endpoint,
		Getenv:      func(k string) string { return o.Env[k] },
		Logger:      o.Logger,
		MaxAttempts: o.MaxAttempts,
		Now:         o.Now,
		Catalog:     o.Catalog,
		Stores:      o.Stores,
	}
	if cfg.Logger == nil {
		cfg.Logger = localenv.Discard
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
	cfg.Guard = Guard(t, cfg.TablePrefix)
	s, err := localenv.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start local stack on %s: %v", b.Name, err)
	}
	t.Cleanup(s.Close)
	t.Cleanup(func() { CheckReads(t, s) })
	return s
}

// CheckReads fails t for every variable a function of stack read that the
// template does not set for it and that is no documented setting
// (localenv.Settings) nor development key (localenv.DevVariables).
func CheckReads(t testing.TB, stack *localenv.Stack) {
	t.Helper()
	if stack.EnvSource != localenv.EnvFromTransform {
		t.Logf("variables read not checked: environments from the %s", stack.EnvSource)
		return
	}
	for _, r := range stack.UndocumentedReads() {
		t.Errorf("%s, which template.yaml does not set for it and localenv.Settings does not document", r)
	}
}

// Guard holds the functions of a stack whose tables are named prefix +
// logical id to their IAM roles, read from the template as SAM expands it,
// and fails the test naming every call a role denied (localenv.Config.Guard;
// NewStack sets it). It is on whenever samtranslator is available (required
// under CI=true); nil (no guard) otherwise. Benchmarks run unguarded: they
// measure the handlers.
func Guard(t testing.TB, prefix string) *iampolicy.Guard {
	t.Helper()
	if _, bench := t.(*testing.B); bench {
		return nil
	}
	samOnce.Do(func() { samErr = samtranslate.Available() })
	if err := samErr; err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("IAM roles: %v (required when CI=true)", err)
		}
		guardOff.Do(func() { t.Logf("IAM roles NOT enforced: %v", err) })
		return nil
	}
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	g, err := iampolicy.NewStackGuard(context.Background(), path, iampolicy.Locals{TableName: func(id string) string { return prefix + id }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, d := range g.Denials() {
			t.Errorf("IAM: %s", d)
		}
	})
	return g
}

var (
	guardOff sync.Once
	samOnce  sync.Once
	samErr   error
)
