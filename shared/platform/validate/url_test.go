package validate_test

import (
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

func TestHTTPURL(t *testing.T) {
	for _, tt := range []struct{ in, want, origin string }{
		{"https://shop.example/thanks?o=1#top", "https://shop.example/thanks?o=1#top", "https://shop.example"},
		{"http://localhost:8080/ok", "http://localhost:8080/ok", "http://localhost:8080"},
		{"https://Shop.Example/Path", "https://Shop.Example/Path", "https://shop.example"},
		{"https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/", "https://xn--bcher-kva.example"},
		{"https://127.0.0.1/x", "https://127.0.0.1/x", "https://127.0.0.1"},
		{"https://[::1]:8443/x", "https://[::1]:8443/x", "https://[::1]:8443"},
		{"https://shop.example/a b", "https://shop.example/a%20b", "https://shop.example"},
		{"https://evil.example;script-src/", "", ""},
		{"https://evil.example;script-src 'unsafe-inline'/", "", ""},
		{"https://evil.example'/", "", ""},
		{"https://user:pw@shop.example/", "", ""},
		{"https://shop.example:0/", "", ""},
		{"https://shop.example:99999/", "", ""},
		{"https://shop.example:+1/", "", ""},
		{"https://-shop.example/", "", ""},
		{"https://bücher.example/", "", ""},
		{"https://[::ffff:1.2.3.4/", "", ""},
		{"javascript:alert(1)", "", ""},
		{"ftp://shop.example/", "", ""},
		{"/relative", "", ""},
		{"https:///nohost", "", ""},
		{"https://shop.example/" + strings.Repeat("a", 2048), "", ""},
		{"", "", ""},
	} {
		got, err := validate.HTTPURL(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("HTTPURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if o := validate.Origin(tt.in); o != tt.origin {
			t.Errorf("Origin(%q) = %q, want %q", tt.in, o, tt.origin)
		}
	}
}

// FuzzHTTPURL: whatever is accepted comes back stable (accepted again as
// itself) and its origin holds nothing a header or a CSP would read as
// syntax.
func FuzzHTTPURL(f *testing.F) {
	for _, s := range []string{"https://shop.example/a?b=c#d", "https://evil.example;script-src/", "http://[::1]:80/", "https://a.b/ c", "https://x'y/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		clean, err := validate.HTTPURL(s)
		if err != nil {
			return
		}
		if again, err := validate.HTTPURL(clean); err != nil || again != clean {
			t.Fatalf("HTTPURL(%q) = %q, then %q, %v", s, clean, again, err)
		}
		if o := validate.Origin(clean); o == "" || strings.ContainsAny(o, " ;,'\"\\\t\r\n") {
			t.Fatalf("Origin(%q) = %q", clean, o)
		}
	})
}
