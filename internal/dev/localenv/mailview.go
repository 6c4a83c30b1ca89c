package localenv

import (
	"bytes"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"regexp"
	"strings"

	tgmail "github.com/tollgate-dev/tollgate/shared/platform/mail"
)

// EnvMailDir is where make run keeps the emails the dispatcher would send
// (functions/platform/dispatch/handler.EnvMailDir).
const EnvMailDir = "MAIL_DIR"

// Message is an .eml file of the mail directory, parsed as a reader sees it.
type Message struct {
	File                           string
	From, To, Subject, Date, MsgID string
	Text, HTML                     string
	Links                          []string // the http(s) links of the plain-text part
}

// ParseMessage reads an RFC 5322 message of multipart/alternative (a
// plain-text and an HTML part, each maybe quoted-printable).
func ParseMessage(raw []byte) (Message, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return Message{}, err
	}
	out := Message{From: m.Header.Get("From"), To: m.Header.Get("To"), Subject: subject, Date: m.Header.Get("Date"), MsgID: m.Header.Get("Message-Id")}
	typ, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(typ, "multipart/") {
		body, _ := io.ReadAll(m.Body)
		out.Text = string(body)
		return out, nil
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Message{}, err
		}
		var body io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			return Message{}, err
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch pt {
		case "text/plain":
			out.Text = strings.ReplaceAll(string(b), "\r\n", "\n")
		case "text/html":
			out.HTML = string(b)
		}
	}
	out.Links = linkRE.FindAllString(out.Text, -1)
	return out, nil
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

var mailPages = template.Must(template.New("list").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mail kept by make run</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 60em; margin: 1em auto;">
<h1>Mail kept by make run</h1>
<p>Every email the dispatcher would send through SES, newest first, kept in <code>{{.Dir}}</code>.</p>
{{if .Messages}}<table><thead><tr><th>Date</th><th>To</th><th>Subject</th></tr></thead><tbody>
{{range .Messages}}<tr><td>{{.Date}}</td><td>{{.To}}</td><td><a href="/dev/mail/{{.File}}">{{.Subject}}</a></td></tr>
{{end}}</tbody></table>{{else}}<p id="empty">No email yet.</p>{{end}}
</body></html>
{{define "message"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 60em; margin: 1em auto;">
<p><a href="/dev/mail/">All mail</a> · <a href="/dev/mail/{{.File}}?raw=1">the .eml file</a>{{if .HTML}} · <a href="/dev/mail/{{.File}}?part=html">the HTML part</a>{{end}}</p>
<table>
<tr><th>From</th><td>{{.From}}</td></tr><tr><th>To</th><td>{{.To}}</td></tr>
<tr><th>Subject</th><td id="subject">{{.Subject}}</td></tr><tr><th>Date</th><td>{{.Date}}</td></tr>
<tr><th>Message-ID</th><td>{{.MsgID}}</td></tr>
</table>
{{if .Links}}<h2>Links</h2><ul>{{range .Links}}<li><a href="{{.}}">{{.}}</a></li>{{end}}</ul>{{end}}
<h2>Plain-text part</h2>
<pre id="text" style="white-space: pre-wrap; background: #f4f4f4; padding: 1em;">{{.Text}}</pre>
</body></html>{{end}}`))

// MailHandler serves GET /dev/mail/ (the list of dir's .eml files) and
// /dev/mail/<file> (one message, readable; ?raw=1 the file, ?part=html its
// HTML part): make run's mailbox, never deployed.
func MailHandler(dir string, log *slog.Logger) http.Handler {
	box := tgmail.Dir{Path: dir}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		name := strings.TrimPrefix(r.URL.Path, "/dev/mail/")
		if name == "" {
			names, err := box.List()
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			var msgs []Message
			for _, n := range names {
				raw, err := box.Read(n)
				if err != nil {
					continue
				}
				m, err := ParseMessage(raw)
				if err != nil {
					m = Message{Subject: "(unreadable: " + err.Error() + ")"}
				}
				m.File = n
				msgs = append(msgs, m)
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if err := mailPages.Execute(w, map[string]any{"Dir": dir, "Messages": msgs}); err != nil {
				log.Warn("mail list", "error", err)
			}
			return
		}
		raw, err := box.Read(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("raw") != "" {
			w.Header().Set("Content-Type", "message/rfc822")
			_, _ = w.Write(raw) //nolint:gosec // G705: served as message/rfc822 with a CSP of default-src 'none': the file make run wrote, a download
			return
		}
		m, err := ParseMessage(raw)
		if err != nil {
			http.Error(w, "unreadable message: "+err.Error(), http.StatusUnprocessableEntity)
			return
		}
		m.File = name
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Query().Get("part") == "html" {
			_, _ = io.WriteString(w, m.HTML) // the email's own HTML, its values escaped by its template
			return
		}
		if err := mailPages.ExecuteTemplate(w, "message", m); err != nil {
			log.Warn("mail message", "error", err)
		}
	})
}
