package mail_test

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"

	tgmail "github.com/tollgate-dev/tollgate/shared/platform/mail"
)

// Whatever the subject, the display name, the id and the bodies hold, a
// built message reads back as one message with exactly its own headers:
// no value adds a header or breaks the structure.
func FuzzBuild(f *testing.F) {
	f.Add("Größe: receipt", "My Store", "email:store:s:order:ORD-1:email.receipt", "Key: A\n", "<p>A</p>")
	f.Add("a\r\nBcc: x@y.example", "Evil\" <x@y>", "id\r\nX-Evil: 1", "\r\n.\r\n", "--boundary--")
	f.Add(strings.Repeat("long ", 200), "", "", "", "")
	f.Fuzz(func(t *testing.T, subject, name, id, text, html string) {
		m := tgmail.Message{From: (&mail.Address{Name: name, Address: "receipts@shop.example"}).String(), To: "buyer@example.com",
			Subject: subject, Text: text, HTML: html, ID: id}
		raw, err := tgmail.Build(m)
		if err != nil {
			return // a refusal is fine; a panic or a broken message is not
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("built message does not parse: %v", err)
		}
		for k := range msg.Header {
			switch k {
			case "From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type":
			default:
				t.Fatalf("header %q appeared", k)
			}
		}
		if len(msg.Header["Subject"]) != 1 || len(msg.Header["To"]) != 1 {
			t.Fatalf("Subject or To repeated: %v", msg.Header)
		}
	})
}
