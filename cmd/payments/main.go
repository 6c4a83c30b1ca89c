// Command payments manages the payments API's merchants and their keys.
//
//	go run ./cmd/payments [--table NAME] [--endpoint URL] COMMAND ...
//
//	merchant create ID NAME [WEBHOOK_URL]   create a merchant and print a new secret and
//	                                        publishable key (shown once, stored as digests)
//	key create ID secret|publishable        print a new key for merchant ID (rotation: the
//	                                        old keys keep working until revoked)
//	key list ID                             list merchant ID's keys by public id
//	key revoke ID KEY_ID                    revoke a key by its public id (from key list);
//	                                        every function refuses it within KEY_CACHE_TTL
//
//	--table NAME      the payments table (default $PAYMENTS_TABLE)
//	--endpoint URL    a DynamoDB-compatible endpoint (default $DYNAMODB_ENDPOINT; empty: AWS)
//
// A merchant's PSP credentials are not kept here: put them in the Secrets
// Manager secret tollgate/<env>/merchants/<ID> (docs/payments.md).
// Exit status: 0 done, 1 failed, 2 bad usage.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/internal/dev/cli"

	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

func main() { cli.Main(run) }

const usage = "usage: payments [--table NAME] [--endpoint URL] merchant create ID NAME [WEBHOOK_URL] | key create ID secret|publishable | key list ID | key revoke ID KEY_ID"

var run = cli.Tool{Name: "payments", Usage: usage, Table: "payments", EnvTable: dynamo.EnvPaymentsTable, Command: command}.Run

func command(ctx context.Context, db *dynamodb.Client, table string, a []string, stdout, stderr io.Writer) error {
	if len(a) < 3 {
		return flag.ErrHelp
	}
	d := deps.Deps{Store: dynamo.Store{DB: db, Tables: dynamo.Tables{Payments: table}}, Logger: slog.New(slog.NewJSONHandler(stderr, nil)),
		Getenv: func(string) string { return "" }, Now: time.Now}
	svc, err := payments.New(d, psp.NewRegistry(), nil)
	if err != nil {
		return err
	}
	m := svc.Merchants
	switch {
	case a[0] == "merchant" && a[1] == "create" && (len(a) == 4 || len(a) == 5):
		mc := payments.Merchant{ID: a[2], Name: a[3]}
		if len(a) == 5 {
			mc.WebhookURL = a[4]
		}
		if err := m.CreateMerchant(ctx, mc); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "merchant %s created. Keys (shown once; only their digests are stored):\n", mc.ID)
		for _, kind := range []payments.KeyKind{payments.SecretKey, payments.PublishableKey} {
			key, err := m.NewKey(ctx, mc.ID, kind)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "  %-11s %s\n", kind, key)
		}
	case a[0] == "key" && a[1] == "create" && len(a) == 4:
		kind := payments.KeyKind(a[3])
		if kind != payments.SecretKey && kind != payments.PublishableKey {
			return flag.ErrHelp
		}
		key, err := m.NewKey(ctx, a[2], kind)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new %s key of %s (shown once): %s\n", kind, a[2], key)
	case a[0] == "key" && a[1] == "list" && len(a) == 3:
		keys, err := m.Keys(ctx, a[2])
		if err != nil {
			return err
		}
		for _, k := range keys {
			state := "active"
			if k.Revoked {
				state = "revoked"
			}
			fmt.Fprintf(stdout, "%s  %-11s %-7s created %s\n", k.ID, k.Kind, state, k.CreatedAt.Format(time.RFC3339))
		}
	case a[0] == "key" && a[1] == "revoke" && len(a) == 4:
		if err := m.RevokeKey(ctx, a[2], a[3]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key %s of %s revoked\n", a[3], a[2])
	default:
		return flag.ErrHelp
	}
	return nil
}
