package contract

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
)

// verifyingSection returns the "## Verifying a delivery" section of
// docs/webhooks.md: what a receiver's developer reads on its own.
func verifyingSection(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "docs", "webhooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Verifying a delivery\n")
	if !ok {
		t.Fatal("docs/webhooks.md has no section ## Verifying a delivery")
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	return section
}

// The page names the headers the dispatcher sends, as it spells them.
func TestWebhooksPageNamesTheHeaders(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "docs", "webhooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{delivery.DefaultSignatureHeader, delivery.HeaderEventID, delivery.HeaderEventType, delivery.HeaderTimestamp} {
		if !strings.Contains(string(data), "`"+h+"`") {
			t.Errorf("docs/webhooks.md does not name the header %s", h)
		}
	}
	if !strings.Contains(verifyingSection(t), delivery.HeaderEventID) {
		t.Errorf("the verification section does not say to de-duplicate by %s", delivery.HeaderEventID)
	}
}

// The Go function of "Verifying a delivery" accepts what the dispatcher
// signs (during a rotation: either secret's signature) and refuses a body
// or a signature changed by one byte.
func TestWebhooksVerificationSnippet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	var code string
	for _, b := range fencedBlocks(verifyingSection(t)) {
		if b.lang == "go" {
			code = b.body
		}
	}
	if !strings.Contains(code, "func verify(secret string, body []byte, signature string) bool") {
		t.Fatalf("docs/webhooks.md: the verification section's Go block should define func verify(secret string, body []byte, signature string) bool, got:\n%s", code)
	}
	dir := t.TempDir()
	main := `package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

` + code + `

func main() { fmt.Print(verify(os.Args[1], []byte(os.Args[2]), os.Args[3])) }
`
	file := filepath.Join(dir, "main.go")
	if err := os.WriteFile(file, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "verify")
	build := exec.Command("go", "build", "-o", bin, file)
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the snippet does not build: %v\n%s", err, out)
	}
	secret, body := "whsec_local_1", `{"event_id":"evt_1","type":"order.fulfilled"}`
	sig := delivery.Sign(secret, []byte(body))
	last := byte('0')
	if sig[len(sig)-1] == '0' {
		last = '1'
	}
	for _, c := range []struct {
		body, sig, want string
	}{
		{body, sig, "true"},
		{body + " ", sig, "false"},
		{body, sig[:len(sig)-1] + string(last), "false"},
		{body, strings.TrimPrefix(sig, "sha256="), "false"},
		// During a rotation: one signature per secret, either verifies.
		{body, delivery.SignAll([]string{"whsec_new_2", secret}, []byte(body)), "true"},
		{body, delivery.SignAll([]string{secret, "whsec_old_0"}, []byte(body)), "true"},
		{body, delivery.SignAll([]string{"whsec_new_2", "whsec_old_0"}, []byte(body)), "false"},
	} {
		out, err := exec.Command(bin, secret, c.body, c.sig).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != c.want {
			t.Errorf("verify(%q, %q) = %s, want %s", c.body, c.sig, out, c.want)
		}
	}
}
