package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
)

// invite emails the operator's invitation (here into MAIL_DIR, as make run
// keeps it): its link, accepted, makes the store's first owner; the tool
// refuses what it cannot do.
func TestInvite(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{})
			ctx := context.Background()
			portalTable := e.Stack.TableName("PortalTable")
			mailDir := t.TempDir()
			vars := map[string]string{"STORES_TABLE": e.Tables.Stores, "PORTAL_TABLE": portalTable, "DYNAMODB_ENDPOINT": e.Stack.Endpoint,
				"MAIL_DIR": mailDir, "PORTAL_ORIGIN": "http://127.0.0.1:8080"}
			cmd := func(args ...string) (int, string, string) {
				var out, errOut bytes.Buffer
				code := run(ctx, args, &out, &errOut, func(k string) string { return vars[k] })
				return code, out.String(), errOut.String()
			}
			file := filepath.Join(t.TempDir(), "stores.json")
			if err := os.WriteFile(file, []byte(`{"stores": [{"slug": "acme", "name": "Acme & Co", "apiKeys": ["sk_test_acme_invite_1"]}]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := cmd("import", file); code != 0 {
				t.Fatalf("import: %s", errOut)
			}
			code, out, errOut := cmd("invite", "-store", "acme", "-email", "Owner@Acme.test")
			if code != 0 || !strings.Contains(out, "invited Owner@Acme.test to acme as owner") || !strings.Contains(out, mailDir) {
				t.Fatalf("invite: %d %q %q", code, out, errOut)
			}
			files, err := filepath.Glob(filepath.Join(mailDir, "*.eml"))
			if err != nil || len(files) != 1 {
				t.Fatalf("emails %v, %v", files, err)
			}
			raw, err := os.ReadFile(files[0])
			if err != nil {
				t.Fatal(err)
			}
			msg := strings.ReplaceAll(strings.ReplaceAll(string(raw), "=\r\n", ""), "=3D", "=") // quoted-printable: soft breaks, "="
			if !strings.Contains(msg, "To: <owner@acme.test>") || !strings.Contains(msg, "Acme &amp; Co") || !strings.Contains(msg, "Acme & Co") {
				t.Fatalf("email:\n%s", msg)
			}
			m := regexp.MustCompile(`http://127\.0\.0\.1:8080` + regexp.QuoteMeta(portal.InvitePath) + `([A-Za-z0-9_-]{43})`).FindStringSubmatch(msg)
			if m == nil {
				t.Fatalf("no invitation link in:\n%s", msg)
			}
			svc := portal.New(dynamo.Store{DB: e.Stack.DB, Tables: dynamo.Tables{Stores: e.Tables.Stores, Portal: portalTable}}, ratelimit.Limiter{}, nil, nil)
			if _, s, err := svc.AcceptInvite(ctx, m[1], "192.0.2.1"); err != nil || s.Email != "owner@acme.test" {
				t.Fatalf("accept: %+v, %v", s, err)
			}
			if r, err := svc.Role(ctx, "owner@acme.test", "acme"); err != nil || r != portal.RoleOwner {
				t.Fatalf("role %q, %v", r, err)
			}
			log, _, err := svc.Audit(ctx, "acme", "", 10)
			if err != nil || len(log) != 3 || log[2].Action != portal.ActionInvite || log[2].Actor != operator.Email {
				t.Fatalf("audit %+v, %v", log, err)
			}

			for _, c := range []struct {
				args []string
				code int
				says string
			}{
				{[]string{"invite", "-store", "acme"}, 2, "usage"},
				{[]string{"invite", "-store", "acme", "-email", "x@acme.test", "-role", "admin"}, 1, "role"},
				{[]string{"invite", "-store", "nope", "-email", "x@acme.test"}, 1, "no such store"},
				{[]string{"invite", "-store", "acme", "-email", "owner@acme.test"}, 1, "already a member"},
				{[]string{"invite", "-store", "acme", "-email", "x@acme.test", "-base", "http://h/portal"}, 1, "origin"},
			} {
				if code, _, errOut := cmd(c.args...); code != c.code || !strings.Contains(errOut, c.says) {
					t.Errorf("%v: %d %q", c.args, code, errOut)
				}
			}
			delete(vars, "MAIL_DIR")
			if code, _, errOut := cmd("invite", "-store", "acme", "-email", "y@acme.test"); code != 1 || !strings.Contains(errOut, "MAIL_FROM") {
				t.Errorf("no sender: %d %q", code, errOut)
			}
		})
	}
}
