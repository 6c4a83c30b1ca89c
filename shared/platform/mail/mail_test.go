package mail_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tgmail "github.com/tollgate-dev/tollgate/shared/platform/mail"
)

func sample() tgmail.Message {
	return tgmail.Message{From: `"My Store" <receipts@shop.example>`, To: "buyer@example.com", ReplyTo: "help@shop.example",
		Subject: "Größe: receipt\r\nBcc: victim@example.com", Text: "Key: AAAA-BBBB\nÜber\n", HTML: "<p>Key: <code>AAAA-BBBB</code> &amp; Über</p>",
		ID: "email:store:shop:order:ORD-1:email.receipt", Date: time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC),
		Headers: map[string]string{"X-Tollgate-Event-Id": "email:store:shop:order:ORD-1:email.receipt"}}
}

// parse reads a built message back with net/mail and mime/multipart.
func parse(t *testing.T, raw []byte) (mail.Header, map[string]string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	typ, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || typ != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", m.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		parts[p.Header.Get("Content-Type")] = string(b)
	}
	return m.Header, parts
}

func TestBuild(t *testing.T) {
	raw, err := tgmail.Build(sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		if line != "" && !strings.HasSuffix(line, "\r\n") && line != strings.SplitAfter(string(raw), "\n")[len(strings.SplitAfter(string(raw), "\n"))-1] {
			t.Fatalf("a line without CRLF: %q", line)
		}
		if len(line) > 998 {
			t.Fatalf("a line over RFC 5322's 998 characters")
		}
	}
	h, parts := parse(t, raw)
	if h.Get("Bcc") != "" {
		t.Fatal("a subject with a line break added a header")
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "Größe: receipt Bcc: victim@example.com" {
		t.Fatalf("Subject %q (%v)", subject, err)
	}
	for k, want := range map[string]string{"To": "<buyer@example.com>", "Reply-To": "<help@shop.example>", "MIME-Version": "1.0",
		"Message-Id": "<email.store.shop.order.ORD-1.email.receipt@shop.example>", "Date": "Mon, 07 Dec 2026 13:00:00 +0000",
		"X-Tollgate-Event-Id": "email:store:shop:order:ORD-1:email.receipt"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if from, err := h.AddressList("From"); err != nil || from[0].Name != "My Store" || from[0].Address != "receipts@shop.example" {
		t.Errorf("From %v (%v)", from, err)
	}
	if got := parts["text/plain; charset=utf-8"]; got != "Key: AAAA-BBBB\r\nÜber\r\n" {
		t.Errorf("text part %q", got)
	}
	if got := parts["text/html; charset=utf-8"]; !strings.Contains(got, "<code>AAAA-BBBB</code> &amp; Über") {
		t.Errorf("HTML part %q", got)
	}
}

func TestBuildRefusesBadAddresses(t *testing.T) {
	for _, m := range []func(*tgmail.Message){
		func(m *tgmail.Message) { m.To = "not an address" },
		func(m *tgmail.Message) { m.To = "a@b.example\r\nBcc: c@d.example" },
		func(m *tgmail.Message) { m.From = "" },
		func(m *tgmail.Message) { m.ReplyTo = "nope" },
	} {
		msg := sample()
		m(&msg)
		if _, err := tgmail.Build(msg); !errors.Is(err, tgmail.ErrInvalid) {
			t.Errorf("Build(%+v): %v, want ErrInvalid", msg, err)
		}
		if _, err := (tgmail.Dir{Path: t.TempDir()}).Send(context.Background(), msg); !errors.Is(err, tgmail.ErrRefused) {
			t.Errorf("Dir.Send of a bad message: %v, want ErrRefused (dead at once, not retried)", err)
		}
	}
}

// Dir keeps each send as its own file: the same event sent twice is two
// files, as SES would send two emails.
func TestDir(t *testing.T) {
	d := tgmail.Dir{Path: filepath.Join(t.TempDir(), "mail"), Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	first, err := d.Send(context.Background(), sample())
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.Send(context.Background(), sample())
	if err != nil || second == first {
		t.Fatalf("second send %q (%v), first %q", second, err, first)
	}
	names, err := d.List()
	if err != nil || len(names) != 2 {
		t.Fatalf("List %v (%v)", names, err)
	}
	raw, err := d.Read(first)
	if err != nil {
		t.Fatal(err)
	}
	if _, parts := parse(t, raw); !strings.Contains(parts["text/plain; charset=utf-8"], "AAAA-BBBB") {
		t.Fatal("the kept file lacks the text")
	}
	for _, bad := range []string{"../x.eml", "/etc/passwd", ".eml", "x.txt"} {
		if _, err := d.Read(bad); !os.IsNotExist(err) {
			t.Errorf("Read(%q): %v, want not found", bad, err)
		}
	}
}
