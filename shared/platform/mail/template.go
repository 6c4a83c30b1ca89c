package mail

import (
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// Template is an email's two parts, run on the same data: a text/template
// for the plain-text part and an html/template (which escapes every value)
// for the HTML part. The packages that send email (checkoutweb's receipts,
// portalweb's sign-in links and invitations) keep their templates in
// files and build a Template from them.
type Template struct {
	Text *texttemplate.Template
	HTML *htmltemplate.Template
}

// MustTemplate parses the two parts of email name; a template that does not
// parse is a programming error, and panics (as template.Must).
func MustTemplate(name, text, html string) Template {
	return Template{
		Text: texttemplate.Must(texttemplate.New(name + ".txt").Parse(text)),
		HTML: htmltemplate.Must(htmltemplate.New(name + ".html").Parse(html)),
	}
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
