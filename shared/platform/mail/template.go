package mail

import (
	"io"
	"strings"
)

// Executor is a parsed template: *text/template.Template and
// *html/template.Template are (this package, a leaf, imports neither).
type Executor interface {
	Execute(w io.Writer, data any) error
}

// Template is an email's two parts, run on the same data: a text/template
// for the plain-text part and an html/template (which escapes every value)
// for the HTML part. The packages that send email (checkoutweb's receipts,
// portalweb's sign-in links and invitations) parse their template files
// into one.
type Template struct {
	Text, HTML Executor
}

// Render runs both parts on data.
func (t Template) Render(data any) (text, html string, err error) {
	var tb, hb strings.Builder
	if err := t.Text.Execute(&tb, data); err != nil {
		return "", "", err
	}
	if err := t.HTML.Execute(&hb, data); err != nil {
		return "", "", err
	}
	return tb.String(), hb.String(), nil
}

// WithName is the sender address addr shown as name ("Name" <addr>),
// quoted for the header; addr as it is when it names itself already.
func WithName(name, addr string) string {
	if strings.Contains(addr, "<") || name == "" {
		return addr
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `" <` + addr + ">"
}
