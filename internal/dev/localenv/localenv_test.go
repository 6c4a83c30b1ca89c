package localenv_test

import (
	"context"
	"os"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/catalog"
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
