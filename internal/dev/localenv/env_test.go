package localenv_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// A function runs with the expanded template's environment: Globals and
// its own variables, tables under their local names, parameters their
// defaults or given values, the secrets left out; the process environment
// overrides declared variables and adds only documented ones; reads of
// anything else are reported.
func TestEnvIsTheTemplates(t *testing.T) {
	samtranslate.Require(t)
	process := map[string]string{
		"PUBLIC_BASE_URL":    "https://shop.example", // declared for CheckoutSessionFunction
		"CHECKOUT_TABLE":     "elsewhere",            // a table: never overridden
		"STRIPE_TIMEOUT":     "3s",                   // a documented setting
		"UNDOCUMENTED_THING": "x",                    // neither: not passed
		"STASH_EGRESS_KEY":   "dev-key",              // a development key
	}
	// Not ddbtest.NewStack: this test reads an undocumented variable on purpose.
	stack, err := localenv.Start(context.Background(), localenv.Config{Getenv: func(k string) string { return process[k] }, Logger: localenv.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	if stack.EnvSource != localenv.EnvFromTransform {
		t.Fatalf("environments from %s", stack.EnvSource)
	}
	getenv, err := stack.Env("CheckoutSessionFunction")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ key, want string }{
		{"PUBLIC_BASE_URL", "https://shop.example"},
		{"CHECKOUT_TABLE", stack.TableName("CheckoutTable")},
		{"CHECKOUT_RATE_LIMIT", "100"},  // its own, a Number parameter's default
		{"RESERVATION_TTL", "30m"},      // Globals
		{"CHECKOUT_SANDBOX", "true"},    // Fn::If on Environment=dev
		{"SECRET_ID", ""},               // the secret: keys come from their variables
		{"STRIPE_TIMEOUT", "3s"},        // documented, from the process
		{"UNDOCUMENTED_THING", ""},      // not passed on
		{"STASH_EGRESS_KEY", "dev-key"}, // a development key
		{"GRANT_MODE", ""},              // another function's setting
	}
	for _, tt := range tests {
		if got := getenv(tt.key); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.key, got, tt.want)
		}
	}
	getenv, _ = stack.Env("StashWebhookFunction")
	if got := getenv("WEBHOOK_ENVIRONMENT"); got != "test" {
		t.Errorf("StashWebhookFunction WEBHOOK_ENVIRONMENT = %q, want test", got)
	}
	prod, err := stack.WithParameters(context.Background(), map[string]string{"Environment": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	getenv, _ = prod.Env("StashWebhookFunction")
	if got := getenv("WEBHOOK_ENVIRONMENT"); got != "production" {
		t.Errorf("prod: WEBHOOK_ENVIRONMENT = %q, want production", got)
	}
	want := []localenv.Read{{Function: "CheckoutSessionFunction", Variable: "UNDOCUMENTED_THING"}}
	if got := stack.UndocumentedReads(); !slices.Equal(got, want) {
		t.Errorf("undocumented reads %v, want %v", got, want)
	}
}

// Every documented setting is named, in backquotes, on the page its entry
// names.
func TestSettingsDocumented(t *testing.T) {
	for _, s := range localenv.Settings {
		if !strings.HasPrefix(s.Doc, "docs/") || !strings.HasSuffix(s.Doc, ".md") {
			t.Errorf("%s: documented in %q, want a page docs/*.md", s.Name, s.Doc)
			continue
		}
		page := rootFile(t, s.Doc)
		if !strings.Contains(string(page), "`"+s.Name+"`") || s.Default == "" {
			t.Errorf("%s: not on %s, or no default", s.Name, s.Doc)
		}
	}
}

// The development keys and their defaults are on docs/local.md, the demo
// merchant's on docs/payments.md, each variable with its value: what a
// newcomer copies into a curl command must be what make run uses.
func TestDevKeysDocumented(t *testing.T) {
	page := map[string]string{
		"docs/local.md":    string(rootFile(t, "docs/local.md")),
		"docs/payments.md": string(rootFile(t, "docs/payments.md")),
	}
	check := func(file, variable, value string) {
		t.Helper()
		if !strings.Contains(page[file], "`"+variable+"`") {
			t.Errorf("%s: %s is not named", file, variable)
		}
		if value != "" && !strings.Contains(page[file], "`"+value+"`") {
			t.Errorf("%s: %s's development default %q is not given", file, variable, value)
		}
	}
	for _, n := range secrets.Names {
		check("docs/local.md", n.EnvVar(), localenv.DevKeys[n])
	}
	check("docs/payments.md", localenv.EnvPaymentsSecretKey, localenv.DevPaymentsSecretKey)
	check("docs/payments.md", localenv.EnvPaymentsPublishableKey, localenv.DevPaymentsPublishableKey)
	check("docs/payments.md", localenv.EnvPaymentsWebhookURL, "")
}

// Without samtranslator the environments come from the template's own
// parse outside CI, and the start fails under CI=true.
func TestEnvFallbackWithoutSamtranslator(t *testing.T) {
	path := filepath.Join(t.TempDir(), "template.yaml") // no expansion cached beside it
	if err := os.WriteFile(path, rootFile(t, "template.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // no python3
	start := func() (*localenv.Stack, error) {
		return localenv.Start(context.Background(), localenv.Config{TemplatePath: path, Getenv: func(string) string { return "" }, Logger: localenv.Discard})
	}
	t.Setenv("CI", "")
	stack, err := start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	getenv, err := stack.Env("CheckoutSessionFunction")
	if err != nil {
		t.Fatal(err)
	}
	if stack.EnvSource != localenv.EnvFromParse || getenv("CHECKOUT_TABLE") != stack.TableName("CheckoutTable") || getenv("RESERVATION_TTL") != "30m" {
		t.Errorf("fallback: source %q, CHECKOUT_TABLE %q, RESERVATION_TTL %q", stack.EnvSource, getenv("CHECKOUT_TABLE"), getenv("RESERVATION_TTL"))
	}
	t.Setenv("CI", "true")
	if s, err := start(); err == nil {
		s.Close()
		t.Error("CI=true without samtranslator: the stack started")
	}
}

// rootFile reads a file of the project's root.
func rootFile(t *testing.T, name string) []byte {
	t.Helper()
	root, err := samtemplate.Root()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
