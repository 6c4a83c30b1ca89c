// Command invoke runs one function's Lambda entry on an event file and prints
// the API Gateway response, as `sam local invoke` would, without Docker: the
// handler runs against embedded minidyn (or DYNAMODB_ENDPOINT) with the local
// keys and the sample catalog. Usage: go run ./cmd/invoke -fn AuthorizeFunction -event events/authorize.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/shared/catalog"
	"github.com/tollgate-dev/tollgate/shared/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform"
	"github.com/tollgate-dev/tollgate/shared/store"
)

func main() {
	fn := flag.String("fn", "", "function logical id or short name (AuthorizeFunction, authorize)")
	eventPath := flag.String("event", "", "HTTP API v2 event JSON file")
	flag.Parse()
	if *fn == "" || *eventPath == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*fn, *eventPath); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(fn, eventPath string) error {
	event, err := os.ReadFile(eventPath)
	if err != nil {
		return err
	}
	ctx := context.Background()
	stack, err := localenv.Start(ctx, localenv.Config{
		Endpoint: os.Getenv(store.EnvEndpoint),
		Catalog:  catalog.Sample,
		Logger:   platform.NewLogger(os.Stderr, os.Getenv(platform.EnvLogLevel)),
	})
	if err != nil {
		return err
	}
	defer stack.Close()
	id, err := stack.ResolveFunction(fn)
	if err != nil {
		return err
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
