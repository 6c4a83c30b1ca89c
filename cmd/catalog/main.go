// Command catalog validates a catalog file and imports it into the catalog
// table (format and rules: package shared/stash/catalog).
//
//	go run ./cmd/catalog [flags] FILE
//
//	--table NAME      the catalog table (default $CATALOG_TABLE)
//	--endpoint URL    a DynamoDB-compatible endpoint (default $DYNAMODB_ENDPOINT;
//	                  empty: AWS, with the default credential chain and region)
//	--dry-run         print what the import would change, write nothing
//	--validate        only parse and validate FILE (no DynamoDB)
//	--create-table    create the table if it is missing (local servers)
//
// It prints one line per change ("create gem_pack", "update gem_pack:
// prices,name", "deactivate old_item") and a summary. Exit status: 0 done,
// 1 invalid file or failed import, 2 bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tollgate-dev/tollgate/internal/dev/cli"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

func main() { cli.Main(run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := cli.TableFlags(fs, getenv, "catalog", dynamo.EnvCatalogTable)
	table := target.Name
	dryRun := fs.Bool("dry-run", false, "print the changes the import would make; write nothing")
	validate := fs.Bool("validate", false, "only parse and validate FILE; no DynamoDB")
	createTable := fs.Bool("create-table", false, "create the table if it is missing (local servers)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: catalog [flags] FILE")
		fs.PrintDefaults()
	}
	files, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if len(files) != 1 {
		fmt.Fprintln(stderr, "catalog: want exactly one FILE")
		fs.Usage()
		return 2
	}
	path := files[0]

	f, err := catalog.LoadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *validate {
		fmt.Fprintf(stdout, "%s: valid, %d products\n", path, len(f.Products))
		return 0
	}
	if *table == "" {
		fmt.Fprintf(stderr, "catalog: --table is required (or set %s)\n", dynamo.EnvCatalogTable)
		return 2
	}

	db, err := target.Client(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "catalog:", err)
		return 1
	}
	if *createTable {
		if *dryRun {
			fmt.Fprintln(stderr, "catalog: --dry-run: not creating the table")
		} else if created, err := ensureCatalogTable(ctx, db, *table); err != nil {
			fmt.Fprintln(stderr, "catalog:", err)
			return 1
		} else if created {
			fmt.Fprintf(stdout, "created table %s\n", *table)
		}
	}

	apply, verb := catalog.Import, "imported into"
	if *dryRun {
		apply, verb = catalog.Diff, "dry run (nothing written) against"
	}
	res, err := apply(ctx, db, *table, f)
	for _, c := range res.Changes {
		fmt.Fprintln(stdout, c)
	}
	if err != nil {
		if len(res.Changes) > 0 {
			fmt.Fprintln(stderr, "catalog: the changes above were written before the error")
		}
		fmt.Fprintln(stderr, "catalog:", err)
		var missing *types.ResourceNotFoundException
		if errors.As(err, &missing) && !*createTable {
			fmt.Fprintln(stderr, "catalog: (on a local server, --create-table creates the table)")
		}
		return 1
	}
	fmt.Fprintf(stdout, "%s %s: %s\n", verb, *table, res.Summary())
	return 0
}

// parseArgs parses flags placed before or after the file names.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return files, nil
		}
		files = append(files, args[0])
		args = args[1:]
	}
}

// ensureCatalogTable creates table as template.yaml defines CatalogTable,
// unless it exists.
func ensureCatalogTable(ctx context.Context, db *dynamodb.Client, table string) (bool, error) {
	path, err := samtemplate.Find()
	if err != nil {
		return false, err
	}
	tmpl, err := samtemplate.Load(path)
	if err != nil {
		return false, err
	}
	return localenv.EnsureTable(ctx, db, tmpl, "CatalogTable", table)
}
