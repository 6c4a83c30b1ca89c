package localenv_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/embeddeddb"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// TestEnsureTable: a catalog table made from the template's definition is
// created once, then found, and takes an import.
func TestEnsureTable(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			stack := ddbtest.NewStack(t, b, ddbtest.StackOptions{})
			table := stack.TableName("OtherCatalog")
			for i, want := range []bool{true, false} {
				created, err := localenv.EnsureTable(context.Background(), stack.DB, stack.Template, "CatalogTable", table)
				if err != nil || created != want {
					t.Fatalf("call %d: created %v, err %v; want %v", i, created, err, want)
				}
			}
			f, err := catalog.ParseFile(catalog.Sample)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := catalog.Import(context.Background(), stack.DB, table, f); err != nil {
				t.Fatal(err)
			}
			if _, err := localenv.EnsureTable(context.Background(), stack.DB, stack.Template, "NoSuchTable", table); err == nil {
				t.Fatal("EnsureTable of a table the template lacks: no error")
			}
		})
	}
}

// TestDataDir: with DataDir, what a stack wrote is there after a restart;
// a file that cannot be loaded stops the start and stays as it was.
func TestDataDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	start := func() (*localenv.Stack, error) {
		return localenv.Start(ctx, localenv.Config{Getenv: func(string) string { return "" }, Logger: localenv.Discard, DataDir: dir, SaveEvery: time.Hour})
	}
	stack, err := start()
	if err != nil {
		t.Fatal(err)
	}
	table := stack.TableName("PlayersTable")
	item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "p"}, "sk": &types.AttributeValueMemberS{Value: "s"}}
	if _, err := stack.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
		t.Fatal(err)
	}
	stack.Close() // saves
	if stack, err = start(); err != nil {
		t.Fatal(err)
	}
	out, err := stack.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: item})
	stack.Close()
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("after a restart: %v, err %v", out.Item, err)
	}

	path := filepath.Join(dir, embeddeddb.FileName)
	if err := os.WriteFile(path, []byte("not a store"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := start(); err == nil || !strings.Contains(err.Error(), "DATA_DIR") || !strings.Contains(err.Error(), path) {
		t.Fatalf("start on a corrupt file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "not a store" {
		t.Fatalf("the corrupt file was changed: %q", b)
	}
}
