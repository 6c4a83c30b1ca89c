package deployrehearsal

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Targets asks the Makefile which package `make build-<id>` (what `sam
// build` runs for BuildMethod: makefile) builds for each logical id: id ->
// the package's folder, for example functions/stash/authorize. An id the
// Makefile cannot build is an error.
func Targets(ctx context.Context, root string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		dry := exec.CommandContext(ctx, "make", "--no-print-directory", "-s", "-n", "build-"+id, "ARTIFACTS_DIR=/nowhere")
		dry.Dir = root
		script, err := dry.Output()
		if err != nil {
			return nil, fmt.Errorf("make -n build-%s: %w", id, err)
		}
		fields := strings.Fields(string(script))
		pkg, ok := "", len(fields) > 0
		if ok {
			pkg, ok = strings.CutPrefix(fields[len(fields)-1], "./")
		}
		if !ok || !strings.HasPrefix(pkg, "functions/") {
			return nil, fmt.Errorf("make -n build-%s builds no package under functions/: %s", id, script)
		}
		if _, err := os.Stat(filepath.Join(root, pkg, "main.go")); err != nil {
			return nil, fmt.Errorf("build-%s: %w", id, err)
		}
		out[id] = pkg
	}
	return out, nil
}

// Build builds the bootstrap of each function (logical id -> package
// folder, as Targets gives) with the Makefile's own command for
// build-<id>, read with make -n so the flags are the deployed ones, and
// returns each bootstrap zipped as Lambda takes it. When the commands differ
// only in their output and package (the build_lambda macro), one go build
// builds them all (the packages they share compile once, the links run in
// parallel); otherwise each command runs on its own.
func Build(ctx context.Context, root, dir string, targets map[string]string) (map[string][]byte, error) {
	scripts := map[string]string{}
	common, oneShape := "", len(targets) > 0
	for id, pkg := range targets {
		dry := exec.CommandContext(ctx, "make", "--no-print-directory", "-s", "-n", "build-"+id, "ARTIFACTS_DIR="+filepath.Join(dir, id))
		dry.Dir = root
		out, err := dry.Output()
		if err != nil {
			return nil, fmt.Errorf("make -n build-%s: %w", id, err)
		}
		scripts[id] = strings.TrimSpace(string(out))
		prefix, ok := strings.CutSuffix(scripts[id], " -o "+filepath.Join(dir, id, "bootstrap")+" ./"+pkg)
		if !ok || strings.Contains(prefix, "\n") || common != "" && prefix != common {
			oneShape = false
		}
		common = prefix
	}
	if oneShape {
		bin := filepath.Join(dir, "bin") + string(filepath.Separator)
		script := common + " -o " + bin
		for _, pkg := range targets {
			script += " ./" + pkg
		}
		if err := run(ctx, root, script); err != nil {
			return nil, err
		}
		for id, pkg := range targets {
			if err := os.MkdirAll(filepath.Join(dir, id), 0o755); err != nil {
				return nil, err
			}
			if err := os.Rename(filepath.Join(bin, filepath.Base(pkg)), filepath.Join(dir, id, "bootstrap")); err != nil {
				return nil, err
			}
		}
	} else {
		for id, script := range scripts {
			if err := run(ctx, root, script); err != nil {
				return nil, fmt.Errorf("build-%s: %w", id, err)
			}
		}
	}
	zips := map[string][]byte{}
	for id := range targets {
		bootstrap, err := os.ReadFile(filepath.Join(dir, id, "bootstrap"))
		if err != nil {
			return nil, err
		}
		if zips[id], err = Zip(bootstrap); err != nil {
			return nil, err
		}
	}
	return zips, nil
}

func run(ctx context.Context, root, script string) error {
	cmd := exec.CommandContext(ctx, "sh", "-ec", script)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %s: %w", script, strings.TrimSpace(string(out)), err)
	}
	return nil
}

// Zip is a deployment package: bootstrap, executable.
func Zip(bootstrap []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(bootstrap); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
