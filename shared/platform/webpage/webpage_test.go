package webpage_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/webpage"
)

// A page's policy names nothing but its own origin and its nonce, unless
// the page asks (ConnectSelf is the default connect-src).
func TestCSP(t *testing.T) {
	got := webpage.CSP("N", webpage.Policy{ConnectSelf: true})
	for _, want := range []string{"default-src 'none'", "script-src 'nonce-N'", "style-src 'nonce-N'", "connect-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(got, want) {
			t.Errorf("CSP %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "stripe") || strings.Contains(got, "unsafe") {
		t.Errorf("CSP %q allows more than the page", got)
	}
}

// Cookies are Secure over HTTPS and only plain on loopback HTTP; a
// negative age deletes.
func TestSetCookie(t *testing.T) {
	for _, c := range []struct {
		url    string
		age    time.Duration
		secure bool
		maxAge int
	}{
		{"https://portal.example.com/portal/", time.Hour, true, 3600},
		{"http://127.0.0.1:3000/portal/", 0, false, 0},
		{"http://localhost:3000/portal/", -1, false, -1},
		{"http://portal.example.com/portal/", time.Minute, true, 60}, // behind a proxy that ended TLS
	} {
		rec := httptest.NewRecorder()
		webpage.SetCookie(rec, httptest.NewRequest(http.MethodGet, c.url, nil), "n", "v", "/", c.age)
		got := rec.Result().Cookies()[0]
		if got.Secure != c.secure || !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.MaxAge != c.maxAge {
			t.Errorf("%s: %+v", c.url, got)
		}
	}
}

// The two parts of an email render from the same data; the HTML part
// escapes it.
func TestEmailTemplate(t *testing.T) {
	e := webpage.MustEmail("t", "Hi {{.}}", "<p>Hi {{.}}</p>")
	text, html, err := e.Render("<b>Ann</b>")
	if err != nil || text != "Hi <b>Ann</b>" || html != "<p>Hi &lt;b&gt;Ann&lt;/b&gt;</p>" {
		t.Fatalf("%q %q %v", text, html, err)
	}
}
