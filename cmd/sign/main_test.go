package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

var signNow = time.UnixMilli(1795240800000)

const postEvent = `{
  "version": "2.0",
  "routeKey": "POST /purchase/{playerId}",
  "headers": {
    "content-type": "application/json",
    "x-api-key": "cad1",
    "X-Stash-Hmac-Signature": "v1;old;1;stale"
  },
  "requestContext": {"timeEpoch": 1795240800000, "http": {"method": "POST"}},
  "isBase64Encoded": false,
  "body": "{\"transactionId\": \"abc123\", \"note\": \"a < b & c\"}"
}
`

// readEvent parses a signed event file into its headers and body bytes.
func readEvent(t *testing.T, path string) (http.Header, []byte, map[string]json.RawMessage) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Headers         map[string]string `json:"headers"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("signed file is not JSON: %v\n%s", err, data)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range ev.Headers {
		h.Add(k, v)
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			t.Fatal(err)
		}
	}
	return h, body, all
}

func TestSignFiles(t *testing.T) {
	binaryBody := []byte{0x00, 0xff, '{', '}', '\n'}
	tests := []struct {
		name    string
		event   string
		args    []string // flags before the file
		env     map[string]string
		keyUsed string // the Static value the verifier accepts
		shopID  string // the verifier's ShopID
		legacy  bool
		wantOut string // substring of the output line
	}{
		{name: "POST, development key", event: postEvent, keyUsed: localenv.DevKeys[secrets.StashEgressKey], shopID: "dev-shop", wantOut: `x-stash-hmac-signature v1 shop "dev-shop" at 1795240800000`},
		{name: "POST, -key and -shop", event: postEvent, args: []string{"-key", "k-flag", "-shop", "s1"}, env: map[string]string{"STASH_EGRESS_KEY": "k-env"}, keyUsed: "k-flag", shopID: "s1", wantOut: "key from -key"},
		{name: "POST, $STASH_EGRESS_KEY", event: postEvent, env: map[string]string{"STASH_EGRESS_KEY": "k-env"}, keyUsed: "k-env", wantOut: "key from $STASH_EGRESS_KEY"},
		{name: "POST, -at", event: postEvent, args: []string{"-at", "1795240700000"}, keyUsed: localenv.DevKeys[secrets.StashEgressKey], wantOut: "at 1795240700000"},
		{name: "GET without body or headers", event: `{"version": "2.0", "rawPath": "/inventory/p1"}`, keyUsed: localenv.DevKeys[secrets.StashEgressKey], wantOut: "body 0 bytes"},
		{name: "GET with null body", event: `{"headers": {}, "body": null}`, keyUsed: localenv.DevKeys[secrets.StashEgressKey], wantOut: "body 0 bytes"},
		{
			name:    "base64 body",
			event:   `{"headers": {"content-type": "application/octet-stream"}, "isBase64Encoded": true, "body": "` + base64.StdEncoding.EncodeToString(binaryBody) + `"}`,
			keyUsed: localenv.DevKeys[secrets.StashEgressKey], wantOut: "body 5 bytes",
		},
		{name: "legacy drops the v1 header", event: postEvent, args: []string{"-legacy"}, keyUsed: localenv.DevKeys[secrets.StashEgressKey], legacy: true, wantOut: "removed X-Stash-Hmac-Signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "event.json")
			if err := os.WriteFile(path, []byte(tt.event), 0o640); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			args := append(append([]string{}, tt.args...), path)
			err := run(args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return tt.env[k] }, func() time.Time { return signNow })
			if err != nil {
				t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("output %q does not contain %q", stdout.String(), tt.wantOut)
			}
			if strings.Contains(stdout.String(), tt.keyUsed) {
				t.Errorf("output %q reveals the key", stdout.String())
			}

			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(data, []byte("}\n")) || bytes.HasSuffix(data, []byte("\n\n")) {
				t.Errorf("signed file does not end with exactly one newline:\n%s", data)
			}
			if !bytes.Contains(data, []byte("\n  \"headers\": {\n    \"")) {
				t.Errorf("signed file is not indented by two spaces:\n%s", data)
			}
			if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o640 {
				t.Errorf("mode = %v, %v; want 0640 kept", info.Mode().Perm(), err)
			}

			h, body, all := readEvent(t, path)
			var orig map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.event), &orig); err != nil {
				t.Fatal(err)
			}
			for k, v := range orig {
				if k == "headers" {
					continue
				}
				var a, b any
				_ = json.Unmarshal(v, &a)
				_ = json.Unmarshal(all[k], &b)
				if ja, jb := mustJSON(t, a), mustJSON(t, b); ja != jb {
					t.Errorf("field %q changed: %s, want %s", k, jb, ja)
				}
			}
			if tt.legacy && h.Get(auth.HeaderStashSignature) != "" {
				t.Errorf("legacy signing left a v1 header: %q", h.Get(auth.HeaderStashSignature))
			}
			if n := len(h.Values(auth.HeaderStashSignature)) + len(h.Values(auth.HeaderStashLegacySignature)); n != 1 {
				t.Errorf("%d signature headers, want 1: %v", n, h)
			}
			if h.Get("Content-Type") == "" && strings.Contains(tt.event, "content-type") {
				t.Error("other headers were lost")
			}

			v := auth.StashSignatures{
				Keys:        auth.Keys{Source: secrets.Static{secrets.StashEgressKey: tt.keyUsed}},
				AllowLegacy: true,
				ShopID:      tt.shopID,
				Now:         func() time.Time { return signNow },
			}
			if err := v.Verify(context.Background(), h, body); err != nil {
				t.Errorf("Verify(signed event) = %v", err)
			}
			// The signature covers those exact bytes.
			if err := v.Verify(context.Background(), h, append(body, ' ')); !errors.Is(err, auth.ErrSignatureInvalid) {
				t.Errorf("Verify(body + space) = %v, want ErrSignatureInvalid", err)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSignKeepsHTMLCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, []byte(postEvent), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{path}, nil, &bytes.Buffer{}, &bytes.Buffer{}, func(string) string { return "" }, func() time.Time { return signNow }); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.Contains(data, []byte(`a < b & c`)) {
		t.Errorf("body was re-escaped:\n%s", data)
	}
}

func TestSignPrint(t *testing.T) {
	body := `{"transactionId": "abc123"}`
	devKey := []byte(localenv.DevKeys[secrets.StashEgressKey])
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"v1", []string{"-print", "-at", "1795240800000"}, auth.SignStashV1(devKey, "dev-shop", signNow, []byte(body))},
		{"v1 default time", []string{"-print", "-shop", "s"}, auth.SignStashV1(devKey, "s", signNow, []byte(body))},
		{"legacy", []string{"-print", "-legacy"}, auth.SignStashLegacy(devKey, []byte(body))},
		{"key flag", []string{"-print", "-legacy", "-key", "k"}, auth.SignStashLegacy([]byte("k"), []byte(body))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tt.args, strings.NewReader(body), &stdout, &stderr, func(string) string { return "" }, func() time.Time { return signNow })
			if err != nil {
				t.Fatalf("run: %v (%s)", err, stderr.String())
			}
			if got := stdout.String(); got != tt.want+"\n" {
				t.Errorf("printed %q, want %q", got, tt.want+"\n")
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", postEvent)
	tests := []struct {
		name    string
		args    []string
		wantErr error  // errors.Is; nil means any error
		wantMsg string // substring of stderr
	}{
		{name: "no files", args: nil, wantErr: errUsage, wantMsg: "usage"},
		{name: "print with files", args: []string{"-print", good}, wantErr: errUsage, wantMsg: "takes no files"},
		{name: "bad -at", args: []string{"-at", "soon", good}, wantErr: errUsage, wantMsg: "Unix milliseconds"},
		{name: "negative -at", args: []string{"-at", "-5", good}, wantErr: errUsage},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.json")}, wantMsg: "nope.json"},
		{name: "not JSON", args: []string{write("bad.json", "{")}, wantMsg: "not an HTTP API event"},
		{name: "array", args: []string{write("array.json", "[]")}, wantMsg: "not an HTTP API event"},
		{name: "null", args: []string{write("null.json", "null")}, wantMsg: "not an HTTP API event"},
		{name: "body not a string", args: []string{write("num.json", `{"body": 5}`)}, wantMsg: `"body" is not a string`},
		{name: "headers not strings", args: []string{write("h.json", `{"headers": {"a": 1}}`)}, wantMsg: `"headers"`},
		{name: "bad base64 body", args: []string{write("b64.json", `{"isBase64Encoded": true, "body": "%%%"}`)}, wantMsg: "not base64"},
		{name: "one bad file of two", args: []string{good, write("bad2.json", "x")}, wantMsg: "bad2.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tt.args, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" }, time.Now)
			if err == nil {
				t.Fatal("run = nil, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("run = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(stderr.String(), tt.wantMsg) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantMsg)
			}
		})
	}
	// A file that could not be signed is left untouched.
	if data, _ := os.ReadFile(filepath.Join(dir, "bad2.json")); string(data) != "x" {
		t.Errorf("bad2.json = %q, want it untouched", data)
	}
}
