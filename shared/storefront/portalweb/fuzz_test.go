package portalweb

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

// A sign-in form never panics; what it accepts is one address in the
// portal's spelling, and the page it returns to is a path of the portal.
func FuzzSignInForm(f *testing.F) {
	for _, s := range []string{"email=owner%40my-store.test", "email=+Owner%40Example.COM+&next=%2Fportal%2Fstores%2Fx%2F", "email=a%40b&next=%2F%2Fevil.example",
		"email=%22x%22%40y.z", "email=a%40b.c%0d%0aBcc%3a+x%40y.z", "next=%2Fportal%2F%5C%5Cevil", "email=" + strings.Repeat("a", 300) + "%40b.c", "next=https%3A%2F%2Fevil.example%2Fportal%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/portal/signin/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			return
		}
		if next := nextOf(r); next != "" && (!strings.HasPrefix(next, "/portal/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n")) {
			t.Fatalf("next %q leaves the portal", next)
		}
		email, err := parseEmail(r.PostForm.Get("email"))
		if err != nil {
			if _, ok := err.(*badRequest); !ok {
				t.Fatalf("error %T, want a badRequest", err)
			}
			return
		}
		if again, err := portal.NormalizeEmail(email); err != nil || again != email || strings.ContainsAny(email, " \r\n<>,") {
			t.Fatalf("accepted %q (normalized again: %q, %v)", email, again, err)
		}
	})
}

// A passkey's name is at most 64 bytes on one line, or refused with a
// message.
func FuzzPasskeyName(f *testing.F) {
	for _, s := range []string{"", "Work laptop", "  spaced  ", strings.Repeat("x", 65), "a\nb", "<script>", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		name, err := passkeyName(raw)
		if err != nil {
			if _, ok := err.(*badRequest); !ok {
				t.Fatalf("error %T, want a badRequest", err)
			}
			return
		}
		if name == "" || len(name) > 64 || strings.ContainsAny(name, "\r\n\x00") {
			t.Fatalf("accepted %q as %q", raw, name)
		}
	})
}

// The page a sign-in returns to is a path of the portal, whatever the
// query says.
func TestNextStaysInThePortal(t *testing.T) {
	for next, want := range map[string]string{
		"/portal/stores/my-store/orders/": "/portal/stores/my-store/orders/",
		"//evil.example/portal/":          "",
		"https://evil.example/portal/":    "",
		"/portal/\\evil":                  "",
		"/elsewhere/":                     "",
		"":                                "",
	} {
		r := httptest.NewRequest("GET", "/portal/signin/?next="+url.QueryEscape(next), nil)
		if got := nextOf(r); got != want {
			t.Errorf("next %q: got %q, want %q", next, got, want)
		}
	}
}

// A team change never panics; what it accepts is one of its three actions
// on an address in the portal's spelling (and a role where one is asked);
// what it refuses is a 400 with its message or, for an address that names
// no member, a 404.
func FuzzTeamForm(f *testing.F) {
	for _, s := range []string{"action=invite&email=dev%40my-store.test&role=developer", "action=role&email=+Dev%40My-Store.TEST+&role=owner",
		"action=remove&email=dev%40my-store.test&confirm=yes", "action=remove&email=nobody", "action=invite&email=x&role=support",
		"action=role&email=a%40b.c&role=admin", "action=explode", "action=invite&email=a%40b.c%0d%0aBcc%3a+x%40y.z&role=owner",
		"action=remove&email=" + strings.Repeat("a", 300) + "%40b.c", "action=role&role=owner&role=support&email=a%40b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/portal/stores/s/team/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			return
		}
		tf, err := parseTeamForm(r.PostForm)
		if err != nil {
			var bad *badRequest
			if !errors.As(err, &bad) && !errors.Is(err, errNotFound) && !errors.Is(err, portal.ErrRole) && !errors.Is(err, portal.ErrEmail) {
				t.Fatalf("error %T %v: neither a 400 nor a 404", err, err)
			}
			return
		}
		if doneOf[tf.Action] == "" {
			t.Fatalf("accepted action %q", tf.Action)
		}
		if again, err := portal.NormalizeEmail(tf.Email); err != nil || again != tf.Email {
			t.Fatalf("accepted address %q", tf.Email)
		}
		if tf.Action != "remove" {
			if _, err := portal.ParseRole(string(tf.Role)); err != nil {
				t.Fatalf("accepted role %q", tf.Role)
			}
		}
	})
}
