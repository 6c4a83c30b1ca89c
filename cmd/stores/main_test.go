package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// The whole tool on each emulator: import a stores file (again: nothing
// new), make a key (printed once, on stdout only; it authenticates), list
// keys by id (never the key), revoke it (it stops authenticating), import
// license keys both ways (known ones skipped); usage errors exit 2.
func TestStoresTool(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{})
			ctx := context.Background()
			st := dynamo.Store{DB: e.Stack.DB, Tables: e.Tables}
			env := func(k string) string {
				return map[string]string{"STORES_TABLE": e.Tables.Stores, "DYNAMODB_ENDPOINT": e.Stack.Endpoint}[k]
			}
			cmd := func(args ...string) (int, string, string) {
				var out, errOut bytes.Buffer
				code := run(ctx, args, &out, &errOut, env)
				return code, out.String(), errOut.String()
			}
			dir := t.TempDir()
			write := func(name, body string) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			file := write("stores.json", `{"stores": [{"slug": "acme", "name": "Acme", "apiKeys": ["sk_test_acme_file_key_1"],
				"products": [{"sku": "GAME-1", "name": "Game", "prices": {"GBP": 1999}}, {"sku": "DLC-1", "name": "DLC", "prices": {"GBP": 499}}]}]}`)
			if code, out, errOut := cmd("import", file); code != 0 || out == "" {
				t.Fatalf("import: %d %s %s", code, out, errOut)
			}
			if code, _, errOut := cmd("import", file); code != 0 {
				t.Fatalf("import again: %d %s", code, errOut)
			}

			code, out, errOut := cmd("create-key", "-store", "acme", "-mode", "test")
			key := strings.TrimSpace(out)
			if code != 0 || stores.KeyMode(key) != stores.ModeTest || strings.Contains(errOut, key) {
				t.Fatalf("create-key: %d stdout %q stderr %q", code, out, errOut)
			}
			if ok, _, err := stores.KeyAndReference(ctx, st, "acme", key, ""); err != nil || !ok {
				t.Fatalf("the new key does not authenticate: %v %v", ok, err)
			}
			// The key's id is told on stderr; list-keys shows it, never a key.
			id := regexp.MustCompile(`^key (\S+) \(test\) for acme`).FindStringSubmatch(errOut)
			if id == nil {
				t.Fatalf("create-key says %q", errOut)
			}
			code, out, _ = cmd("list-keys", "-store", "acme")
			if code != 0 || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(id[1])+` test created \S+ active$`).MatchString(out) || strings.Contains(out, key) || strings.Contains(out, "sk_test_acme_file_key_1") {
				t.Fatalf("list-keys: %d %q", code, out)
			}
			if code, out, _ := cmd("revoke-key", "-store", "acme", "-id", id[1]); code != 0 || !strings.Contains(out, "revoked "+id[1]) {
				t.Fatalf("revoke-key: %d %q", code, out)
			}
			if ok, _, err := stores.KeyAndReference(ctx, st, "acme", key, ""); err != nil || ok {
				t.Fatalf("a revoked key authenticates: %v %v", ok, err)
			}
			if _, out, _ := cmd("list-keys", "-store", "acme"); !strings.Contains(out, id[1]+" test created") || !strings.Contains(out, "revoked 2") {
				t.Fatalf("list-keys after the revocation: %q", out)
			}

			lines := write("game.txt", "AAAAA-11111\nAAAAA-22222\n")
			if code, out, errOut := cmd("import-keys", "-store", "acme", "-sku", "GAME-1", lines); code != 0 || out != "acme/GAME-1: added 2, already there 0\n" {
				t.Fatalf("import-keys -sku: %d %q %s", code, out, errOut)
			}
			csv := write("keys.csv", "GAME-1,AAAAA-22222\nDLC-1,BBBBB-33333\n")
			code, out, errOut = cmd("import-keys", "-store", "acme", csv)
			if code != 0 || out != "acme/DLC-1: added 1, already there 0\nacme/GAME-1: added 0, already there 1\n" {
				t.Fatalf("import-keys CSV: %d %q %s", code, out, errOut)
			}
			if strings.Contains(out+errOut, "AAAAA-") || strings.Contains(out+errOut, "BBBBB-") {
				t.Fatal("a license key was printed")
			}
			for sku, want := range map[string]int64{"GAME-1": 2, "DLC-1": 1} {
				p, err := stores.ReadPool(ctx, e.Stack.DB, e.Tables.Stores, "acme", sku)
				if err != nil || p.Available != want {
					t.Fatalf("pool of %s after the imports: %+v, %v; want %d left", sku, p, err, want)
				}
			}

			// Pools imported by this code are sharded already: nothing to move.
			if code, out, errOut := cmd("migrate-pools", "-store", "acme"); code != 0 || out != "acme: 0 pools migrated\n" {
				t.Fatalf("migrate-pools: %d %q %s", code, out, errOut)
			}

			// Orders written by this code are indexed already: nothing to add.
			if code, out, errOut := cmd("reindex-orders", "-store", "acme"); code != 0 || out != "acme: 0 orders indexed\n" {
				t.Fatalf("reindex-orders: %d %q %s", code, out, errOut)
			}

			for _, bad := range [][]string{{}, {"frobnicate"}, {"create-key"}, {"revoke-key", "-store", "acme"}, {"import"}, {"import-keys", "-store", "acme"}, {"migrate-pools"}, {"reindex-orders"}} {
				if code, _, errOut := cmd(bad...); code != 2 || !strings.Contains(errOut, "usage: stores") {
					t.Errorf("%v: %d %q, want the usage and 2", bad, code, errOut)
				}
			}
			if code, _, errOut := cmd("import", filepath.Join(dir, "missing.json")); code != 1 || !strings.HasPrefix(errOut, "stores: ") {
				t.Errorf("a missing file: %d %q", code, errOut)
			}
			var out2, errOut2 bytes.Buffer
			if code := run(ctx, []string{"list-keys", "-store", "acme"}, &out2, &errOut2, func(string) string { return "" }); code != 2 || !strings.Contains(errOut2.String(), "no table") {
				t.Errorf("without a table: %d %q", code, errOut2.String())
			}
		})
	}
}
