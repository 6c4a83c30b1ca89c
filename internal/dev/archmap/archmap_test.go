package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/layering"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
)

func rootDir(t *testing.T) string {
	t.Helper()
	root, err := samtemplate.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// The map in docs/architecture.md is what the template and the code say.
func TestArchitectureMapIsCurrent(t *testing.T) {
	root := rootDir(t)
	doc, err := os.ReadFile(filepath.Join(root, Page))
	if err != nil {
		t.Fatal(err)
	}
	table, err := Generate(root)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Splice(string(doc), table)
	if err != nil {
		t.Fatal(err)
	}
	if want != string(doc) {
		t.Errorf("%s: the route → function → package → table map is stale; regenerate it with `make docs` (go run ./internal/dev/archmap -w)", Page)
	}
}

// Every function of the template has its row, with a folder, a trigger,
// and (but for the contract's) the tables and shared packages it uses.
func TestRowsCoverEveryFunction(t *testing.T) {
	root := rootDir(t)
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Rows(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(tpl.Functions) {
		t.Errorf("%d rows for %d functions", len(rows), len(tpl.Functions))
	}
	for _, r := range rows {
		if _, ok := tpl.Functions[r.ID]; !ok {
			t.Errorf("%s: not a function of the template", r.ID)
		}
		if len(r.Triggers) == 0 || len(r.Packages) == 0 {
			t.Errorf("%s: triggers %v, packages %v: want both", r.ID, r.Triggers, r.Packages)
		}
		if len(r.Tables) == 0 && r.ID != "OpenAPIFunction" {
			t.Errorf("%s: no table; its policies name none?", r.ID)
		}
		for _, p := range r.Packages {
			if r.Product != "platform" && !strings.HasPrefix(p+"/", "shared/"+r.Product+"/") {
				t.Errorf("%s (%s): package %s is not its product's", r.ID, r.Product, p)
			}
		}
	}
}

// Splice replaces only what lies between the markers, and refuses a page
// without them.
func TestSplice(t *testing.T) {
	doc := "# A\n\n" + Begin + "\nold\n" + End + "\n\ntail\n"
	got, err := Splice(doc, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# A\n\n" + Begin + "\nnew\n" + End + "\n\ntail\n"; got != want {
		t.Errorf("Splice = %q, want %q", got, want)
	}
	if _, err := Splice("# A\nno markers\n", "new\n"); err == nil {
		t.Error("Splice of a page without markers: no error")
	}
}

// ownerRowRE reads the package column of the ownership table.
var ownerRowRE = regexp.MustCompile("(?m)^\\| `(shared/[a-z0-9/]+)` \\|")

// The page's "Which package owns what" table has a row for every package
// under shared/, exactly once, and no row for a package that is gone.
func TestOwnershipTableListsEveryPackage(t *testing.T) {
	root := rootDir(t)
	doc, err := os.ReadFile(filepath.Join(root, Page))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int{}
	for _, m := range ownerRowRE.FindAllStringSubmatch(string(doc), -1) {
		rows[m[1]]++
	}
	packages, err := layering.SharedPackages(root)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for p := range packages {
		found["shared/"+p] = true
	}
	if len(found) < 30 {
		t.Fatalf("found %d packages under shared/: the walk is wrong", len(found))
	}
	for p := range found {
		if rows[p] != 1 {
			t.Errorf("%s: %d rows in the ownership table of %s, want 1", p, rows[p], Page)
		}
	}
	for p := range rows {
		if !found[p] {
			t.Errorf("%s: a row in %s for a package that does not exist", p, Page)
		}
	}
}
