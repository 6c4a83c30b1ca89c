// Package samtranslate expands template.yaml into the CloudFormation that
// `sam deploy` creates, with samtranslator (SAM's own transform, the Python
// package cfn-lint brings), so the local tools read each function's role,
// environment, routes and invoke permissions as AWS will have them rather
// than from a parse of their own. The expansion is cached under
// .build/samtranslate by the template's content.
package samtranslate

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed transform.py
var script []byte

// Bucket is the S3 bucket the expanded template's function code points at
// (what `sam package` would upload to).
const Bucket = "tollgate-artifacts"

// ErrUnavailable means python3 or its samtranslator package is missing.
var ErrUnavailable = errors.New("samtranslator not available (pip install cfn-lint, which brings it)")

// Available reports whether python3 can import samtranslator.
func Available() error {
	python, err := exec.LookPath("python3")
	if err != nil {
		return fmt.Errorf("%w: no python3 on PATH", ErrUnavailable)
	}
	if out, err := exec.CommandContext(context.Background(), python, "-c", "import samtranslator").CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", ErrUnavailable, bytes.TrimSpace(out))
	}
	return nil
}

// Template is an expanded (CloudFormation) template.
type Template struct {
	Parameters map[string]Parameter       `json:"Parameters"`
	Conditions map[string]json.RawMessage `json:"Conditions"`
	Resources  map[string]Resource        `json:"Resources"`
	Outputs    map[string]any             `json:"Outputs"`
	// Raw is the whole document, for a CloudFormation create-stack.
	Raw []byte `json:"-"`
}

// Parameter is one template parameter.
type Parameter struct {
	Type           string `json:"Type"`
	Default        any    `json:"Default"`
	AllowedPattern string `json:"AllowedPattern"`
	AllowedValues  []any  `json:"AllowedValues"`
	MinValue       any    `json:"MinValue"`
	MaxValue       any    `json:"MaxValue"`
	Description    string `json:"Description"`
}

// Resource is one CloudFormation resource; Properties stay raw JSON for the
// reader that knows the type.
type Resource struct {
	Type       string          `json:"Type"`
	Properties json.RawMessage `json:"Properties"`
	DependsOn  any             `json:"DependsOn"`
	Condition  string          `json:"Condition"`
}

// OfType lists the logical ids of the resources of type t, sorted.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Load expands the SAM template at path with the given parameter values
// (nil: the defaults), from the cache when the same template and values
// were expanded before.
func Load(ctx context.Context, path string, params map[string]string) (*Template, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	if params == nil {
		params = map[string]string{}
	}
	paramJSON, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	sum := sha256.New()
	for _, part := range [][]byte{script, {0}, src, {0}, paramJSON} {
		sum.Write(part)
	}
	cache := filepath.Join(filepath.Dir(path), ".build", "samtranslate", hex.EncodeToString(sum.Sum(nil))[:24]+".json")
	out, err := os.ReadFile(cache)
	if err != nil {
		if out, err = run(ctx, path, paramJSON); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(cache), 0o755); err == nil {
			tmp := cache + ".tmp" + fmt.Sprint(os.Getpid())
			if os.WriteFile(tmp, out, 0o644) == nil {
				_ = os.Rename(tmp, cache)
			}
		}
	}
	var t Template
	if err := json.Unmarshal(out, &t); err != nil {
		return nil, fmt.Errorf("expanded template: %w", err)
	}
	t.Raw = out
	return &t, nil
}

func run(ctx context.Context, path string, paramJSON []byte) ([]byte, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "python3", "-c", string(script), path, string(paramJSON), Bucket)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:] // the exception line says what SAM refused
		}
		return nil, fmt.Errorf("samtranslator refused %s: %s", path, msg)
	}
	return out, nil
}

// Require is what a test calls first: it fails under CI=true when the
// transform is unavailable (a fresh CI machine has cfn-lint, hence
// samtranslator) and skips elsewhere.
func Require(tb interface {
	Helper()
	Fatalf(string, ...any)
	Skipf(string, ...any)
}) {
	tb.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%v (required when CI=true)", err)
		}
		tb.Skipf("%v: skipped", err)
	}
}
