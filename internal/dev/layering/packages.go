package layering

import (
	"go/build"
	"io/fs"
	"path/filepath"
)

// SharedPackages lists the Go packages under root/shared (root: the
// module's root), as slash paths relative to root/shared ("stash/catalog").
// The layering rules and the architecture page's ownership table are both
// checked against it.
func SharedPackages(root string) (map[string]bool, error) {
	dir := filepath.Join(root, "shared")
	found := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if pkg, err := build.ImportDir(path, 0); err == nil && len(pkg.GoFiles) > 0 {
			rel, _ := filepath.Rel(dir, path)
			found[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	return found, err
}
