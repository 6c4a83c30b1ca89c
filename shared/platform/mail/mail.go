// Package mail builds RFC 5322 messages (multipart/alternative: a plain-text
// and an HTML part) and sends them through a Sender: Amazon SES v2 in AWS
// (SES), a directory of .eml files under make run (Dir). Both implement the
// one Sender interface the dispatcher uses (docs/email.md).
//
// Nothing here logs a message's body: it holds license keys.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is one email.
type Message struct {
	From, To string // addresses ("Name <a@b>" or "a@b"); To is one buyer
	ReplyTo  string // "" none: the store's support address
	Subject  string
	Text     string // the plain-text part
	HTML     string // the HTML part (already escaped by its template)
	// ID is the Message-ID's local part: the outbox event's id, so the same
	// event is the same Message-ID wherever and however often it is built.
	ID      string
	Date    time.Time
	Headers map[string]string // extra headers, e.g. X-Tollgate-Event-Id
}

// ErrRefused is the reason of a send the mail service refused for good (a
// bad address, a rejected message, a suppressed recipient, a suspended
// account): another attempt would be refused the same way.
var ErrRefused = errors.New("mail: refused")

// Sender sends one message and answers the service's id of it. An error
// wrapping ErrRefused will not change on retry; any other may.
type Sender interface {
	Send(ctx context.Context, m Message) (id string, err error)
}

// ErrInvalid is the reason of a message that cannot be built.
var ErrInvalid = errors.New("mail: invalid message")

// Build renders m as RFC 5322 bytes (CRLF line ends): headers encoded per
// RFC 2047, the two parts quoted-printable in UTF-8.
func Build(m Message) ([]byte, error) {
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("%w: From %q: %w", ErrInvalid, m.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w: To: %w", ErrInvalid, err) // the address is the buyer's: not repeated
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	if m.ReplyTo != "" {
		rt, err := mail.ParseAddress(m.ReplyTo)
		if err != nil {
			return nil, fmt.Errorf("%w: Reply-To %q: %w", ErrInvalid, m.ReplyTo, err)
		}
		header("Reply-To", rt.String())
	}
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	header("Date", date.UTC().Format(time.RFC1123Z))
	header("Message-ID", messageID(m.ID, from.Address))
	for k, v := range m.Headers {
		header(textproto.CanonicalMIMEHeaderKey(k), mime.QEncoding.Encode("utf-8", oneLine(v)))
	}
	header("MIME-Version", "1.0")
	w := multipart.NewWriter(&b)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": w.Boundary()}))
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		pw, err := w.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(crlf(part.body))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// messageID is <id@domain of from>: the same for every send of one event,
// so a mailbox that folds messages with one Message-ID shows a repeated
// send once. Characters an id-left may not hold are replaced.
func messageID(id, from string) string {
	if id == "" {
		r := make([]byte, 12)
		_, _ = rand.Read(r) // never fails (crypto/rand)
		id = hex.EncodeToString(r)
	}
	local := strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)) {
			return r
		}
		return '.'
	}, id)
	_, domain, _ := strings.Cut(from, "@")
	return "<" + strings.Trim(local, ".") + "@" + domain + ">"
}

// oneLine keeps a header value on one line: a value with CR or LF could
// otherwise add headers.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

// crlf ends every line with CRLF, as RFC 5322 wants.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}
