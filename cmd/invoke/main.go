// Command invoke runs one function's Lambda entry on an event file and prints
// the API Gateway response, as `sam local invoke` would, without Docker: the
// handler runs against embedded minidyn (or DYNAMODB_ENDPOINT) with the local
// keys and the sample catalog. Usage: go run ./cmd/invoke -fn AuthorizeFunction -event events/authorize.json
//
// With -binary PATH it runs the function's real bootstrap instead (built for
// this machine; make invoke BINARY=1 builds it), as a process behind a Lambda
// Runtime API emulator (internal/dev/lambdaemu), against the same store, and prints
// the answer the process posted.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/lambdaemu"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

func main() {
	fn := flag.String("fn", "", "function logical id or short name (AuthorizeFunction, authorize)")
	eventPath := flag.String("event", "", "HTTP API v2 event JSON file")
	binary := flag.String("binary", "", "run this bootstrap (built for this machine) through the Lambda Runtime API emulator instead of the handler in-process")
	flag.Parse()
	if *fn == "" || *eventPath == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*fn, *eventPath, *binary); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(fn, eventPath, binary string) error {
	event, err := os.ReadFile(eventPath)
	if err != nil {
		return err
	}
	ctx := context.Background()
	stack, err := localenv.Start(ctx, localenv.Config{
		Endpoint: os.Getenv(dynamo.EnvEndpoint),
		Catalog:  catalog.Sample,
		Stores:   stores.Sample,
		Logger:   deps.NewLogger(os.Stderr, os.Getenv(deps.EnvLogLevel)),
	})
	if err != nil {
		return err
	}
	defer stack.Close()
	id, err := stack.ResolveFunction(fn)
	if err != nil {
		return err
	}
	if binary != "" {
		return invokeBinary(ctx, stack, id, binary, event)
	}
	if _, isStream := functions.Streams[id]; isStream && lambdarun.IsStreamEvent(event) {
		if err := stack.InvokeStream(ctx, id, functions.Streams, event); err != nil {
			return err
		}
		fmt.Println("null")
		return nil
	}
	if _, isJob := functions.Jobs[id]; isJob {
		if err := stack.InvokeJob(ctx, id, functions.Jobs, event); err != nil {
			return err
		}
		fmt.Println("null")
		return nil
	}
	resp, err := stack.Invoke(ctx, id, functions.Constructors, event)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(resp, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

// invokeBinary runs the function's bootstrap as a process against the stack
// and prints its answer: the API Gateway response (or null for a scheduled
// function), indented.
func invokeBinary(ctx context.Context, stack *localenv.Stack, id, binary string, event []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, cs, err := lambdaemu.Invoke(ctx, stack, id, binary, event, os.Stderr)
	if err != nil {
		return err
	}
	var out any = json.RawMessage(res.Payload)
	if !json.Valid(res.Payload) {
		out = string(res.Payload)
	}
	text, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(text))
	fmt.Fprintf(os.Stderr, "invoke: ran %s (%s/%s binary) through the Lambda Runtime API emulator: answer %v after exec, peak RSS %.1f MB\n",
		binary, runtime.GOOS, runtime.GOARCH, cs.FirstResponse.Round(10*time.Microsecond), float64(cs.Memory.Peak)/(1<<20))
	if res.Error {
		return fmt.Errorf("the function returned an error (%s)", res.ErrorType)
	}
	return nil
}
