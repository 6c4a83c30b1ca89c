package webpage

import (
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// EmailTemplate is an email's two parts, run on the same data: a text/template
// for the plain-text part and an html/template (which escapes every value)
// for the HTML part. The packages that send email (checkoutweb's receipts,
// portalweb's sign-in links and invitations) keep their templates in
// files and build a Template from them.
type EmailTemplate struct {
	Text *texttemplate.Template
	HTML *htmltemplate.Template
}

// MustEmail parses the two parts of email name; a template that does not
// parse is a programming error, and panics (as template.Must).
func MustEmail(name, text, html string) EmailTemplate {
	return EmailTemplate{
		Text: texttemplate.Must(texttemplate.New(name + ".txt").Parse(text)),
		HTML: htmltemplate.Must(htmltemplate.New(name + ".html").Parse(html)),
	}
}

// Render runs both parts on data.
func (t EmailTemplate) Render(data any) (text, html string, err error) {
	var tb, hb strings.Builder
	if err := t.Text.Execute(&tb, data); err != nil {
		return "", "", err
	}
	if err := t.HTML.Execute(&hb, data); err != nil {
		return "", "", err
	}
	return tb.String(), hb.String(), nil
}
