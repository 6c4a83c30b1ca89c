package decode_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The wire formats and the domain code that uses them import this package,
// so it must not pull in HTTP: it imports the standard library (no
// net/http) and shared/validate (which imports the standard library only).
func TestImportsNoHTTP(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "net/http" || strings.HasPrefix(path, "net/http/") ||
				(strings.HasPrefix(path, "github.com/tollgate-dev/tollgate/") && path != "github.com/tollgate-dev/tollgate/shared/validate") {
				t.Errorf("%s imports %s: decode imports the standard library and shared/validate only, and no HTTP", name, path)
			}
		}
	}
}
