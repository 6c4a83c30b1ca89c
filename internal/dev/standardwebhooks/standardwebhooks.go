// Package standardwebhooks gives tests the npm package standardwebhooks
// (the Standard Webhooks reference library, pinned at Version) to verify
// Tollgate's deliveries with code no one here wrote. It is installed with
// npm into <module root>/.build/tools/npm-standardwebhooks-<Version> on
// first use. Without node or npm the tests using it are skipped (with a
// message), and fail when CI=true.
package standardwebhooks

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
)

// Version is the pinned standardwebhooks.
const Version = "1.1.1"

// mu serialises installs within one test binary.
var mu sync.Mutex

// Node returns the path of node and a directory whose node_modules holds
// standardwebhooks (require it from there), installing it when missing;
// it skips t (fails it under CI=true) when node or npm is absent.
func Node(t testing.TB) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = exec.LookPath("npm")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and npm are required when CI=true (to verify webhooks with standardwebhooks %s): %v", Version, err)
		}
		t.Skipf("SKIPPING: node or npm not installed (%v); install Node 20 to verify deliveries with standardwebhooks %s", err, Version)
	}
	dir, err = Install(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return node, dir
}

// Install installs standardwebhooks at Version under .build/tools (once)
// and returns its directory.
func Install(ctx context.Context) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	root, err := samtemplate.Root()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, ".build", "tools", "npm-standardwebhooks-"+Version)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks", "package.json")); err == nil {
		return dir, nil
	}
	// Install into a private directory and rename, so two test binaries
	// installing at once never use a half-installed package.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "npm-install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	pkg := fmt.Sprintf(`{"private": true, "dependencies": {"standardwebhooks": %q}}`, Version)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), []byte(pkg), 0o644); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--silent")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install standardwebhooks@%s: %w: %s", Version, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); serr == nil {
			return dir, nil // another test binary installed it first
		}
		return "", err
	}
	return dir, nil
}
