package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sample := write("catalog.json", catalog.Sample)
	repriced := write("repriced.json", bytes.Replace(catalog.Sample, []byte(`"USD": 199,`), []byte(`"USD": 249,`), 1))
	bad := write("bad.json", []byte(`{"products":[{"productId":"a","name":"A","prices":{"usd":1},"perPlayerLimt":1}]}`))

	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			stack := ddbtest.NewStack(t, b, ddbtest.StackOptions{})
			table := stack.TableName("CliCatalog")
			steps := []struct {
				name       string
				args       []string
				env        map[string]string
				code       int
				stdout     []string // lines that must appear, in order
				stderr     string   // substring of stderr
				stdoutNone string   // must not appear
			}{
				{"validate", []string{"--validate", sample}, nil, 0, []string{sample + ": valid, 10 products"}, "", ""},
				{"invalid file", []string{"--validate", bad}, nil, 1, nil,
					"invalid catalog file (2 problems):\n  products[0].perPlayerLimt: unknown field (did you mean \"perPlayerLimit\"?)\n  products[0].prices.usd: currency must be 3 upper-case letters", ""},
				{"invalid file, import", []string{"--table", table, "--endpoint", stack.Endpoint, bad}, nil, 1, nil, "invalid catalog file", ""},
				{"no file", []string{"--validate"}, nil, 2, nil, "want exactly one FILE", ""},
				{"two files", []string{"--validate", sample, bad}, nil, 2, nil, "want exactly one FILE", ""},
				{"unknown flag", []string{"--tabel", "x", sample}, nil, 2, nil, "flag provided but not defined: -tabel", ""},
				{"no table", []string{"--endpoint", stack.Endpoint, sample}, nil, 2, nil, "--table is required (or set CATALOG_TABLE)", ""},
				{"missing table", []string{"--table", table, "--endpoint", stack.Endpoint, sample}, nil, 1, nil, "ResourceNotFoundException", ""},
				{"missing table, dry run", []string{"--table", table, "--endpoint", stack.Endpoint, "--dry-run", "--create-table", sample}, nil, 1, nil,
					"--dry-run: not creating the table", ""},
				{"create table and import", []string{"--table", table, "--endpoint", stack.Endpoint, "--create-table", sample}, nil, 0,
					[]string{"created table " + table, "create gem_pack_small", "create energy_refill",
						"imported into " + table + ": create 10, update 0, restock 0, deactivate 0, reactivate 0, unchanged 0"}, "", ""},
				{"again, table from the environment, flags after the file", []string{sample, "--create-table"},
					map[string]string{"CATALOG_TABLE": table, "DYNAMODB_ENDPOINT": stack.Endpoint}, 0,
					[]string{"imported into " + table + ": create 0, update 0, restock 0, deactivate 0, reactivate 0, unchanged 10"}, "", "created table"},
				{"dry run", []string{"--table", table, "--endpoint", stack.Endpoint, repriced, "--dry-run"}, nil, 0,
					[]string{"update gem_pack_small: prices", "dry run (nothing written) against " + table + ": create 0, update 1, restock 0, deactivate 0, reactivate 0, unchanged 9"}, "", ""},
				{"import the dry run", []string{"--table", table, "--endpoint", stack.Endpoint, repriced}, nil, 0,
					[]string{"update gem_pack_small: prices", "imported into " + table + ": create 0, update 1"}, "", ""},
			}
			for _, st := range steps {
				var stdout, stderr bytes.Buffer
				getenv := func(k string) string { return st.env[k] }
				code := run(context.Background(), st.args, &stdout, &stderr, getenv)
				if code != st.code {
					t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", st.name, code, st.code, stdout.String(), stderr.String())
				}
				rest := stdout.String()
				for _, line := range st.stdout {
					i := strings.Index(rest, line)
					if i < 0 {
						t.Fatalf("%s: stdout lacks %q (in order):\n%s", st.name, line, stdout.String())
					}
					rest = rest[i+len(line):]
				}
				if !strings.Contains(stderr.String(), st.stderr) {
					t.Fatalf("%s: stderr lacks %q:\n%s", st.name, st.stderr, stderr.String())
				}
				if st.stdoutNone != "" && strings.Contains(stdout.String(), st.stdoutNone) {
					t.Fatalf("%s: stdout has %q:\n%s", st.name, st.stdoutNone, stdout.String())
				}
			}
			products, err := catalog.Scan(context.Background(), stack.DB, table)
			if err != nil || len(products) != 10 {
				t.Fatalf("table after the runs: %d products, %v", len(products), err)
			}
			for _, p := range products {
				if p.ProductID == "gem_pack_small" && (p.Prices["USD"] != 249 || p.Version != 2) {
					t.Fatalf("gem_pack_small: %+v", p)
				}
			}
		})
	}
}
