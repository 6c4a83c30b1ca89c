package lambdaemu

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a function's bootstrap running against a Server.
type Process struct {
	Server  *Server
	Started time.Time // just before exec

	cmd     *exec.Cmd
	exited  chan struct{}
	mu      sync.Mutex
	exitErr error
}

// ProcessConfig says what to run.
type ProcessConfig struct {
	Binary string   // path of the bootstrap
	Env    []string // its whole environment (see Env); AWS_LAMBDA_RUNTIME_API is added
	// FunctionName names the function in the invoked function ARN.
	FunctionName string
	// Timeout is the invocation deadline handed to the runtime; 0: 10s.
	Timeout time.Duration
	// Stdout and Stderr receive the process's output (its logs); nil
	// discards them.
	Stdout, Stderr io.Writer
}

// Start serves a Runtime API and starts the bootstrap against it.
func Start(cfg ProcessConfig) (*Process, error) {
	if _, err := os.Stat(cfg.Binary); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	srv, err := NewServer(cfg.FunctionName)
	if err != nil {
		return nil, err
	}
	srv.Timeout = cfg.Timeout
	cmd := exec.Command(cfg.Binary) //nolint:noctx // the runtime process outlives Start; Stop ends it
	cmd.Env = append(append([]string(nil), cfg.Env...), "AWS_LAMBDA_RUNTIME_API="+srv.Addr())
	cmd.Stdout, cmd.Stderr = cfg.Stdout, cfg.Stderr
	p := &Process{Server: srv, cmd: cmd, exited: make(chan struct{})}
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.Binary, err)
	}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(p.exited)
	}()
	return p, nil
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Invoke hands event to the runtime and waits for its answer.
func (p *Process) Invoke(ctx context.Context, event []byte) (Result, error) {
	done, err := p.Server.Enqueue(event)
	if err != nil {
		return Result{}, err
	}
	return wait(ctx, done, p.exited, p.exitError)
}

func (p *Process) exitError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exitErr == nil {
		return errors.New("exit status 0")
	}
	return p.exitErr
}

// Memory is the process's resident memory from /proc/<pid>/status.
type Memory struct {
	Peak    int64 // VmHWM: the most it was resident, bytes
	Current int64 // VmRSS, bytes
}

// Memory reads the process's resident memory. The process must still be
// running (a runtime waiting for its next event is).
func (p *Process) Memory() (Memory, error) {
	select {
	case <-p.exited:
		return Memory{}, errors.New("the process has exited: its memory can no longer be read")
	default:
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID()))
	if err != nil {
		return Memory{}, fmt.Errorf("read memory of pid %d: %w", p.PID(), err)
	}
	return parseStatus(data)
}

// parseStatus reads VmHWM and VmRSS ("VmHWM:	   18120 kB") from a
// /proc/<pid>/status file.
func parseStatus(data []byte) (Memory, error) {
	var m Memory
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return Memory{}, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return Memory{}, fmt.Errorf("%s: %w", key, err)
		}
		if key == "VmHWM" {
			m.Peak = kb << 10
		} else {
			m.Current = kb << 10
		}
		found++
	}
	if found != 2 {
		return Memory{}, errors.New("no VmHWM and VmRSS in /proc status (not Linux?)")
	}
	return m, nil
}

// Stop ends the process as Lambda ends an execution environment (SIGTERM,
// then SIGKILL after grace) and stops the Runtime API.
func (p *Process) Stop(grace time.Duration) {
	defer p.Server.Close()
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
