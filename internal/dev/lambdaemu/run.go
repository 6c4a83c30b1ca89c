package lambdaemu

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
)

// ColdStart is what one cold start of a function measured.
type ColdStart struct {
	// Init is exec → the runtime's first request for an event: process
	// start, package init, dependencies built, catalog loaded.
	Init time.Duration
	// FirstResponse is exec → the first invocation's answer received.
	FirstResponse time.Duration
	// Memory is read after the answer, while the runtime waits for its
	// next event.
	Memory Memory
}

// Invoke runs binary as function id of stack (see Env), hands it event as
// its first invocation, measures the cold start and stops the process. The
// process's logs go to logs (nil: discarded).
func Invoke(ctx context.Context, stack *localenv.Stack, id, binary string, event []byte, logs io.Writer) (Result, ColdStart, error) {
	env, err := Env(stack, id, binary)
	if err != nil {
		return Result{}, ColdStart{}, err
	}
	// The event is queued right after exec, long before the runtime asks
	// for it, so its first request for an event is answered at once, as a
	// cold start's is.
	p, err := Start(ProcessConfig{Binary: binary, Env: env, FunctionName: id, Stdout: logs, Stderr: logs})
	if err != nil {
		return Result{}, ColdStart{}, err
	}
	defer p.Stop(2 * time.Second)
	res, err := p.Invoke(ctx, event)
	if err != nil {
		if ie := p.Server.InitError(); ie != nil {
			return Result{}, ColdStart{}, fmt.Errorf("%s failed to initialize: %s", id, ie.Payload)
		}
		return Result{}, ColdStart{}, fmt.Errorf("%s: %w", id, err)
	}
	cs := ColdStart{FirstResponse: res.At.Sub(p.Started)}
	if first := p.Server.FirstNext(); !first.IsZero() {
		cs.Init = first.Sub(p.Started)
	}
	// The runtime is now blocked asking for its next event: still alive, so
	// its peak memory can be read.
	if cs.Memory, err = p.Memory(); err != nil {
		return res, cs, err
	}
	return res, cs, nil
}
