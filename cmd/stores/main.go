// Command stores manages the store platform's StoresTable:
//
//	go run ./cmd/stores [flags] import FILE                       import a stores file (idempotent)
//	go run ./cmd/stores [flags] create-key -store S [-mode test]  make a store API key; printed once
//	go run ./cmd/stores [flags] list-keys -store S                the store's keys (ids, never keys)
//	go run ./cmd/stores [flags] revoke-key -store S -id ID        revoke a key (at once)
//	go run ./cmd/stores [flags] import-keys -store S [-sku SKU] FILE
//	                                                              license keys, one per line (with -sku) or "sku,key" CSV;
//	                                                              keys already in a pool are skipped
//	go run ./cmd/stores [flags] migrate-pools -store S            move pools imported before shards to the sharded
//	                                                              layout (idempotent, resumable; fulfilments and
//	                                                              imports also do it on their first use of a pool)
//	go run ./cmd/stores [flags] invite -store S -email E [-role owner] [-base URL] [-portal-table NAME]
//	                                                              invite E to the partner portal of store S (the
//	                                                              first owner): emails the one-time link (valid 7 days)
//	                                                              through SES from MAIL_FROM, or into MAIL_DIR locally
//
// Flags: -table (default $STORES_TABLE), -endpoint (default
// $DYNAMODB_ENDPOINT; empty: AWS). License keys and API keys are never
// printed, except the new key create-key makes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/internal/dev/cli"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/mail"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/portalweb"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

func main() { cli.Main(run) }

const usage = "usage: stores [-table NAME] [-endpoint URL] import FILE | create-key -store S [-mode live|test] [-name NAME] | list-keys -store S | revoke-key -store S -id ID | import-keys -store S [-sku SKU] FILE | migrate-pools -store S | invite -store S -email E [-role owner|developer|support] [-base URL] [-portal-table NAME] | reindex-orders -store S"

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return cli.Tool{Name: "stores", Usage: usage, Table: "stores", EnvTable: dynamo.EnvStoresTable,
		Command: func(ctx context.Context, db *dynamodb.Client, table string, args []string, stdout, stderr io.Writer) error {
			if args[0] == "invite" {
				return invite(ctx, db, table, args[1:], stdout, stderr, getenv)
			}
			return command(ctx, stores.Admin{DB: db, Table: table, Now: time.Now}, args[0], args[1:], stdout, stderr)
		}}.Run(ctx, args, stdout, stderr, getenv)
}

// EnvPortalOrigin is the partner portal's origin (scheme and host, no
// path): the invitation link's base (-base).
const EnvPortalOrigin = "PORTAL_ORIGIN"

// operator is who an invitation from this tool comes from.
var operator = portal.Actor{Email: "the Tollgate operator"}

// invite is the operator's invitation of a store's first owner (or any
// member): the invitation and its audit row, then its email.
func invite(ctx context.Context, db *dynamodb.Client, storesTable string, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("invite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	slug := fs.String("store", "", "store slug")
	email := fs.String("email", "", "the member's email address")
	role := fs.String("role", string(portal.RoleOwner), "owner, developer or support")
	base := fs.String("base", getenv(EnvPortalOrigin), "the portal's origin, e.g. https://api.example.com (default $"+EnvPortalOrigin+")")
	portalTable := fs.String("portal-table", getenv(dynamo.EnvPortalTable), "portal table `name` (default $"+dynamo.EnvPortalTable+")")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *slug == "" || *email == "" {
		return flag.ErrHelp
	}
	r, err := portal.ParseRole(*role)
	if err != nil {
		return err
	}
	u, err := url.Parse(*base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("-base (or %s) must be the portal's origin, e.g. https://api.example.com; got %q", EnvPortalOrigin, *base)
	}
	if *portalTable == "" {
		return fmt.Errorf("no portal table: give -portal-table or set %s", dynamo.EnvPortalTable)
	}
	mailer, err := portalweb.NewMailer(ctx, getenv, nil, time.Now)
	if err != nil {
		return err
	}
	if mailer.Sender == nil {
		return fmt.Errorf("no email sender: set %s (an SES-verified address) or, locally, %s", mail.EnvFrom, mail.EnvDir)
	}
	svc := portal.New(dynamo.Store{DB: db, Tables: dynamo.Tables{Stores: storesTable, Portal: *portalTable}}, ratelimit.Limiter{}, mailer, time.Now)
	if err := svc.Invite(ctx, operator, *slug, *email, r, strings.TrimSuffix(*base, "/")); err != nil {
		return err
	}
	where := "sent through SES from " + mailer.From
	if dir := getenv(mail.EnvDir); dir != "" {
		where = "kept as an .eml file in " + dir
	}
	fmt.Fprintf(stdout, "invited %s to %s as %s (valid %s): the email was %s\n", *email, *slug, r, portal.InviteTTL, where)
	return nil
}

func command(ctx context.Context, a stores.Admin, name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	slug := fs.String("store", "", "store slug")
	mode := fs.String("mode", stores.ModeTest, "key mode: live or test")
	id := fs.String("id", "", "key id (list-keys shows them)")
	sku := fs.String("sku", "", "the SKU of a file with one key per line")
	keyName := fs.String("name", "", "the new key's name, as the portal lists it")
	if err := fs.Parse(args); err != nil {
		return flag.ErrHelp
	}
	needStore := name != "import"
	if needStore && *slug == "" {
		return flag.ErrHelp
	}
	switch name {
	case "import", "import-keys":
		if fs.NArg() != 1 {
			return flag.ErrHelp
		}
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		if name == "import" {
			f, err := stores.ParseFile(data)
			if err != nil {
				return err
			}
			res, err := a.Import(ctx, f)
			if err != nil {
				return err
			}
			if len(res.LocalSecrets) > 0 {
				fmt.Fprintln(stderr, "warning: plaintext webhookSecret values are not stored; give deployed stores a webhookSecretRef")
			}
			fmt.Fprintln(stdout, res)
			return nil
		}
		byS, err := stores.ParseLicenseKeys(string(data), *sku)
		if err != nil {
			return err
		}
		skus := make([]string, 0, len(byS))
		for s := range byS {
			skus = append(skus, s)
		}
		sort.Strings(skus)
		for _, s := range skus {
			added, known, err := a.ImportLicenseKeys(ctx, *slug, s, byS[s])
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s/%s: added %d, already there %d\n", *slug, s, added, known)
		}
		return nil
	case "create-key":
		key, info, err := a.CreateKey(ctx, *slug, *mode, *keyName, stores.NoAudit)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "key %s (%s) for %s; shown once, store it now:\n", info.ID, info.Mode, *slug)
		fmt.Fprintln(stdout, key)
		return nil
	case "list-keys":
		keys, err := a.Keys(ctx, *slug)
		if err != nil {
			return err
		}
		for _, k := range keys {
			state := "active"
			if !k.RevokedAt.IsZero() {
				state = "revoked " + k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s %s created %s %s\n", k.ID, k.Mode, k.CreatedAt.UTC().Format(time.RFC3339), state)
		}
		return nil
	case "migrate-pools":
		moved, err := a.MigratePools(ctx, *slug)
		if err != nil {
			return err
		}
		for _, m := range moved {
			fmt.Fprintf(stdout, "%s/%s: migrated\n", *slug, m)
		}
		fmt.Fprintf(stdout, "%s: %d pools migrated\n", *slug, len(moved))
		return nil
	case "reindex-orders":
		// Orders written before the portal's order index: idempotent.
		n, err := a.ReindexOrders(ctx, *slug)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d orders indexed\n", *slug, n)
		return nil
	case "revoke-key":
		if *id == "" {
			return flag.ErrHelp
		}
		if err := a.RevokeKey(ctx, *slug, *id, stores.NoAudit); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s of %s\n", *id, *slug)
		return nil
	}
	return flag.ErrHelp
}
