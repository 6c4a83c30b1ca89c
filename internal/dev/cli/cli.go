// Package cli is what Tollgate's table tools (cmd/catalog, cmd/payments,
// cmd/stores, cmd/outbox) share: the signal-aware main and the -table and
// -endpoint flags with their environment defaults.
package cli

import (
	"context"
	"flag"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/shared/store"
)

// Run is a tool's body: it returns the exit status.
type Run func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int

// Main runs run with the process's arguments and environment, cancelled by
// Ctrl-C or SIGTERM, and exits with its status.
func Main(run Run) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Table is a tool's DynamoDB table and endpoint, from its flags.
type Table struct {
	Name     *string
	Endpoint *string
}

// TableFlags registers -table (default $envTable) and -endpoint (default
// $DYNAMODB_ENDPOINT; empty: AWS) on fs.
func TableFlags(fs *flag.FlagSet, getenv func(string) string, what, envTable string) Table {
	return Table{
		Name:     fs.String("table", getenv(envTable), what+" table `name` (default $"+envTable+")"),
		Endpoint: fs.String("endpoint", getenv(store.EnvEndpoint), "DynamoDB-compatible endpoint `URL` (default $"+store.EnvEndpoint+"; empty: AWS)"),
	}
}

// Client is the DynamoDB client of the flags' endpoint.
func (t Table) Client(ctx context.Context) (*dynamodb.Client, error) {
	return store.NewClient(ctx, store.ClientOptions{Endpoint: *t.Endpoint})
}
