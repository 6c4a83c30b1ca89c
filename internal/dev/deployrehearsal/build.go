package deployrehearsal

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

var buildTarget = regexp.MustCompile(`(?m)^build-([A-Za-z0-9]+):\s*\n\t\$\(call build_lambda,([A-Za-z0-9_]+)\)`)

// Targets reads the Makefile's build-<LogicalId> targets (what `sam build`
// runs): logical id -> the package under functions/.
func Targets(makefile []byte) map[string]string {
	out := map[string]string{}
	for _, m := range buildTarget.FindAllSubmatch(makefile, -1) {
		out[string(m[1])] = string(m[2])
	}
	return out
}

// Build builds the bootstrap of each function (logical ids) into
// dir/<id>/bootstrap with the Makefile's own command for build-<id> (read
// with make -n, so the flags are the deployed ones), two builds at a time,
// and returns each bootstrap zipped as Lambda takes it.
func Build(ctx context.Context, root, dir string, ids []string) (map[string][]byte, error) {
	type result struct {
		id  string
		zip []byte
		err error
	}
	results := make(chan result, len(ids))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			zip, err := buildOne(ctx, root, filepath.Join(dir, id), id)
			results <- result{id, zip, err}
		}()
	}
	wg.Wait()
	close(results)
	zips := map[string][]byte{}
	for r := range results {
		if r.err != nil {
			return nil, r.err
		}
		zips[r.id] = r.zip
	}
	return zips, nil
}

func buildOne(ctx context.Context, root, out, id string) ([]byte, error) {
	dry := exec.CommandContext(ctx, "make", "--no-print-directory", "-s", "-n", "build-"+id, "ARTIFACTS_DIR="+out)
	dry.Dir = root
	script, err := dry.Output()
	if err != nil {
		return nil, fmt.Errorf("make -n build-%s: %w", id, err)
	}
	build := exec.CommandContext(ctx, "sh", "-ec", string(script))
	build.Dir = root
	if msg, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build-%s: %s: %w", id, strings.TrimSpace(string(msg)), err)
	}
	bootstrap, err := os.ReadFile(filepath.Join(out, "bootstrap"))
	if err != nil {
		return nil, err
	}
	return Zip(bootstrap)
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
