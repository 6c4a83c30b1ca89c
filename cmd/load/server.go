package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/motoserver"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// server is `make run`'s server (cmd/local), built and started by this tool
// on a free loopback port.
type server struct {
	URL string
	// profile is the CPU profile cmd/local writes when it stops.
	profile string
	cmd     *exec.Cmd
	exited  chan struct{}
	log     *serverLog
}

// startServer builds cmd/local into dir and starts it with the load catalog
// and the development keys, against endpoint (embedded minidyn when empty).
func startServer(ctx context.Context, dir, catalogFile, endpoint, dataDir string, keepLog io.Writer) (*server, error) {
	return startServerEnv(ctx, dir, catalogFile, endpoint, dataDir, keepLog, nil)
}

// startServerEnv is startServer with more environment (NAME=value).
func startServerEnv(ctx context.Context, dir, catalogFile, endpoint, dataDir string, keepLog io.Writer, more []string) (*server, error) {
	bin := filepath.Join(dir, "tollgate-local")
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./cmd/local")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build cmd/local: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	profile := filepath.Join(dir, "cpu.pprof")
	cmd := exec.Command(bin, "-addr", addr, "-cpuprofile", profile) //nolint:noctx // a server outliving the call that starts it (CommandContext would kill it when ctx ends); its Stop ends it
	env := []string{
		"CATALOG_FILE=" + catalogFile,
		"LOG_LEVEL=info",
		dynamo.EnvEndpoint + "=" + endpoint,
		"DATA_DIR=" + dataDir,
		"DATA_SAVE_INTERVAL=1h", // saved at shutdown only, after the measurement
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
	}
	for _, n := range secrets.Names {
		env = append(env, n.EnvVar()+"="+localenv.DevKeys[n])
	}
	for _, kv := range os.Environ() { // PATH, HOME, ...; never a key or table setting of the caller
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "HOME" || k == "TMPDIR" {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, more...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	s := &server{URL: "http://" + addr, profile: profile, cmd: cmd, exited: make(chan struct{}), log: newServerLog(keepLog)}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start cmd/local: %w", err)
	}
	go func() {
		s.log.read(stdout)
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(ctx, 5*time.Minute); err != nil { // a stores file of many keys is imported at start
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls until the server answers (a 404 for an unknown path).
func (s *server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("cmd/local exited at start:\n%s", s.log.tail())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/load-ready-probe", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("cmd/local did not answer on %s within %v", s.URL, limit)
}

// stop shuts the server down as Ctrl-C does (SIGTERM), killing it after 10s.
func (s *server) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// serverLog reads the server's JSON log lines: it tallies each access-log
// line's dynamodbCalls by function and keeps the last lines for errors.
type serverLog struct {
	keep io.Writer
	mu   sync.Mutex
	last []string
	// calls[function][n] counts requests that made n DynamoDB calls.
	calls map[string]map[int]int
	// errors counts lines logged at ERROR.
	errors int
}

func newServerLog(keep io.Writer) *serverLog {
	return &serverLog{keep: keep, calls: map[string]map[int]int{}}
}

func (l *serverLog) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if l.keep != nil {
			fmt.Fprintln(l.keep, line)
		}
		var m struct {
			Msg      string `json:"msg"`
			Level    string `json:"level"`
			Function string `json:"function"`
			Calls    *int   `json:"dynamodbCalls"`
		}
		_ = json.Unmarshal([]byte(line), &m)
		l.mu.Lock()
		if m.Msg == "request" && m.Calls != nil {
			if l.calls[m.Function] == nil {
				l.calls[m.Function] = map[int]int{}
			}
			l.calls[m.Function][*m.Calls]++
		}
		if m.Level == "ERROR" {
			l.errors++
		}
		l.last = append(l.last, line)
		if len(l.last) > 20 {
			l.last = l.last[1:]
		}
		l.mu.Unlock()
	}
}

func (l *serverLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.last, "\n")
}

// snapshot returns a copy of the tallies.
func (l *serverLog) snapshot() (map[string]map[int]int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]map[int]int{}
	for fn, h := range l.calls {
		out[fn] = map[int]int{}
		for n, c := range h {
			out[fn][n] = c
		}
	}
	return out, l.errors
}

// waitFor waits (at most limit) until function has at least n access-log
// lines, and returns the tallies then: a line is written just after the
// answer is sent.
func (l *serverLog) waitFor(function string, n int, limit time.Duration) map[string]map[int]int {
	deadline := time.Now().Add(limit)
	for {
		calls, _ := l.snapshot()
		total := 0
		for _, c := range calls[function] {
			total += c
		}
		if total >= n || time.Now().After(deadline) {
			return calls
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func freePort() (int, error) {
	ln, err := new(net.ListenConfig).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startMoto starts moto_server on a free loopback port and returns its URL
// and how to stop it.
func startMoto(ctx context.Context) (string, func(), error) {
	m, err := motoserver.Start(ctx)
	if err != nil {
		return "", nil, err
	}
	return m.URL, m.Stop, nil
}

// preloadPurchases writes into dataDir an embedded DynamoDB holding n
// purchases, each by its own player: one authorization of 2 items made
// through the router, copied with other ids (localenv.Stack.Replicate).
func preloadPurchases(ctx context.Context, dataDir string, n int) error {
	start := time.Now()
	stack, err := localenv.Start(ctx, localenv.Config{
		Getenv: func(string) string { return "" }, Logger: localenv.Discard, Catalog: loadCatalog, DataDir: dataDir, SaveEvery: time.Hour,
	})
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	defer stack.Close() // saves
	router, err := stack.Router(functions.Constructors)
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	const player, tx = "preload-p0000000", "preload-t0000000"
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/purchase/"+player,
		strings.NewReader(`{"transactionId":"`+tx+`","items":[{"id":"load_coins","quantity":1},{"id":"load_gems","quantity":2}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", localenv.DevKeys[secrets.StashAPIKey])
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("preload: the template authorization answered %d %s", rec.Code, rec.Body)
	}
	ids := func(i int) *strings.Replacer {
		return strings.NewReplacer(player, fmt.Sprintf("preload-p%07d", i), tx, fmt.Sprintf("preload-t%07d", i))
	}
	if err := stack.Replicate(ctx, n, ids, "PlayersTable", "TransactionsTable"); err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	fmt.Printf("load: %d purchases stored in %v\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}
