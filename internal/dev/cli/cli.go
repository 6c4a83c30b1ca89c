// Package cli is what Tollgate's table tools (cmd/catalog, cmd/payments,
// cmd/stores, cmd/outbox) share: the signal-aware main and the -table and
// -endpoint flags with their environment defaults.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
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
		Endpoint: fs.String("endpoint", getenv(dynamo.EnvEndpoint), "DynamoDB-compatible endpoint `URL` (default $"+dynamo.EnvEndpoint+"; empty: AWS)"),
	}
}

// Client is the DynamoDB client of the flags' endpoint.
func (t Table) Client(ctx context.Context) (*dynamodb.Client, error) {
	return dynamo.NewClient(ctx, dynamo.ClientOptions{Endpoint: *t.Endpoint})
}

// Tool is a table tool of subcommands:
//
//	NAME [-table NAME] [-endpoint URL] SUBCOMMAND [ARGS...]
type Tool struct {
	Name     string // e.g. "stores": the flag set's name and the prefix of its errors
	Usage    string // printed on a usage error
	Table    string // what the table is, e.g. "stores"
	EnvTable string // the environment variable of the table's name
	// Command runs one subcommand (args[0], its arguments after it) on the
	// table. flag.ErrHelp is a usage error (Usage printed, status 2); any
	// other error is printed after the tool's name (status 1).
	Command func(ctx context.Context, db *dynamodb.Client, table string, args []string, stdout, stderr io.Writer) error
}

// Run parses the table flags, opens the table's client and runs the
// subcommand: the tool's body for Main.
func (t Tool) Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet(t.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := TableFlags(fs, getenv, t.Table, t.EnvTable)
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		fmt.Fprintln(stderr, t.Usage)
		return 2
	}
	if *target.Name == "" {
		fmt.Fprintf(stderr, "%s: no table: give -table or set %s\n%s\n", t.Name, t.EnvTable, t.Usage)
		return 2
	}
	db, err := target.Client(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", t.Name, err)
		return 1
	}
	if err := t.Command(ctx, db, *target.Name, fs.Args(), stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, t.Usage)
			return 2
		}
		fmt.Fprintf(stderr, "%s: %v\n", t.Name, err)
		return 1
	}
	return 0
}
