// Command outbox lists and replays the webhook events of the OutboxTable:
//
//	go run ./cmd/outbox [flags] list [-store S | -emails S | -merchant M] [-status pending|delivered|dead] [-limit N]
//	go run ./cmd/outbox [flags] replay -id EVENT_ID                 make one event due now (whatever its state)
//	go run ./cmd/outbox [flags] replay-dead (-store S | -emails S | -merchant M) make every dead event of a recipient due now
//	go run ./cmd/outbox [flags] replay-undeliverable (-store S | -merchant M)
//	                                 make every undeliverable event of a recipient due now (once it has a webhook URL)
//
// -store S names store S's webhook events, -emails S the emails to its
// buyers (receipts, refund notices; docs/email.md). A replayed event is
// delivered by the dispatcher's next run, with a fresh retry window (a
// replayed email is sent again, even if it was sent before). Flags: -table (default $OUTBOX_TABLE), -endpoint (default
// $DYNAMODB_ENDPOINT; empty: AWS).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/internal/dev/cli"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

func main() { cli.Main(run) }

const usage = "usage: outbox [-table NAME] [-endpoint URL] list [-store S | -emails S | -merchant M] [-status STATUS] [-limit N] | replay -id EVENT_ID | replay-dead | replay-undeliverable (-store S | -emails S | -merchant M)"

var run = cli.Tool{Name: "outbox", Usage: usage, Table: "outbox", EnvTable: dynamo.EnvOutboxTable,
	Command: func(ctx context.Context, db *dynamodb.Client, table string, args []string, stdout, stderr io.Writer) error {
		return command(ctx, outbox.Box{DB: db, Table: table}, time.Now(), args[0], args[1:], stdout, stderr)
	}}.Run

func command(ctx context.Context, b outbox.Box, now time.Time, name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	slug := fs.String("store", "", "the store slug of the recipient")
	merchant := fs.String("merchant", "", "the merchant id of the recipient")
	emails := fs.String("emails", "", "the store slug whose buyers' emails are listed or replayed")
	status := fs.String("status", "", "pending, delivered, dead or undeliverable (default: any)")
	limit := fs.Int("limit", 100, "at most this many events")
	id := fs.String("id", "", "event id (list shows them)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || count(*slug, *merchant, *emails) > 1 {
		return flag.ErrHelp
	}
	recipient := ""
	switch {
	case *slug != "":
		recipient = dynamo.Tuple("store", *slug)
	case *merchant != "":
		recipient = dynamo.Tuple("merchant", *merchant)
	case *emails != "":
		recipient = dynamo.Tuple("email", *emails) // stores.EmailKind
	}
	switch name {
	case "list":
		events, err := b.List(ctx, recipient, *status, *limit)
		if err != nil {
			return err
		}
		for _, e := range events {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\tattempts=%d\tcreated=%s\t%s\n", e.ID, e.Recipient, e.Type, e.Status, e.Attempts,
				e.At.UTC().Format(time.RFC3339), e.LastError)
		}
		return nil
	case "replay":
		if *id == "" {
			return flag.ErrHelp
		}
		if err := b.Replay(ctx, *id, now); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "due now:", *id)
		return nil
	case "replay-dead", "replay-undeliverable":
		if recipient == "" {
			return flag.ErrHelp
		}
		state := strings.TrimPrefix(name, "replay-")
		events, err := b.List(ctx, recipient, state, 1<<30)
		if err != nil {
			return err
		}
		for _, e := range events {
			if err := b.Replay(ctx, e.ID, now); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "due now:", e.ID)
		}
		fmt.Fprintf(stdout, "%d %s events of %s replayed\n", len(events), state, recipient)
		return nil
	}
	return flag.ErrHelp
}

// count is how many of vs are set.
func count(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}
