package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/payments"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// Create a merchant, authenticate with the printed keys, rotate, revoke.
func TestMerchantKeys(t *testing.T) {
	e := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{})
	ctx := context.Background()
	env := func(k string) string {
		return map[string]string{"PAYMENTS_TABLE": e.Tables.Payments, "DYNAMODB_ENDPOINT": e.Stack.Endpoint}[k]
	}
	cmd := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, args, &out, &errOut, env)
		return code, out.String() + errOut.String()
	}
	code, out := cmd("merchant", "create", "acme", "Acme Games", "https://acme.example/hooks")
	keys := regexp.MustCompile(`pay_(sk|pk)_[A-Za-z0-9_-]{43}`).FindAllString(out, -1)
	if code != 0 || len(keys) != 2 {
		t.Fatalf("merchant create: %d %s", code, out)
	}
	if code, out := cmd("merchant", "create", "acme", "Again"); code != 1 || !strings.Contains(out, "exists") {
		t.Fatalf("second create: %d %s", code, out)
	}
	svc, err := payments.New(e.Deps(t, "PreauthorizationFunction"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := svc.Merchants.Authenticate(ctx, payments.SecretKey, keys[0]); err != nil || m != "acme" {
		t.Fatalf("secret key: %q %v", m, err)
	}
	if _, err := svc.Merchants.Authenticate(ctx, payments.SecretKey, keys[1]); err == nil {
		t.Fatal("the publishable key passed as a secret key")
	}
	code, out = cmd("key", "list", "acme")
	ids := regexp.MustCompile(`(?m)^([0-9a-f]{12})  secret`).FindStringSubmatch(out)
	if code != 0 || ids == nil || strings.Contains(out, keys[0]) {
		t.Fatalf("key list: %d %s", code, out)
	}
	if code, out := cmd("key", "revoke", "acme", ids[1]); code != 0 {
		t.Fatalf("revoke: %d %s", code, out)
	}
	fresh, err := payments.New(e.Deps(t, "PreauthorizationFunction"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Merchants.Authenticate(ctx, payments.SecretKey, keys[0]); err == nil {
		t.Fatal("a revoked key still authenticates")
	}
	if code, _ := cmd("key", "frobnicate"); code != 2 {
		t.Fatalf("bad usage: %d", code)
	}
}
