package stashapi_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The domain packages (shared/purchase) use the wire format, so it must not
// pull in the HTTP layer: its refusals are *decode.Error values, answered
// by httpx and stashhttp.
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
			switch path, _ := strconv.Unquote(imp.Path.Value); {
			case path == "net/http", strings.HasPrefix(path, "net/http/"),
				path == "github.com/tollgate-dev/tollgate/shared/httpx",
				path == "github.com/tollgate-dev/tollgate/shared/stashhttp":
				t.Errorf("%s imports %s: the wire format imports no HTTP code", name, path)
			case path == "github.com/tollgate-dev/tollgate/shared/catalog",
				path == "github.com/tollgate-dev/tollgate/shared/players",
				path == "github.com/tollgate-dev/tollgate/shared/purchase":
				t.Errorf("%s imports %s: the wire format imports no domain package (encoders of domain values live with their endpoint)", name, path)
			}
		}
	}
}
