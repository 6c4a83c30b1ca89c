package functions_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/portalweb"
)

// portalSite is the whole stack behind the local API Gateway with the
// portal's emails kept in MailDir: the path a member's browser takes.
type portalSite struct {
	*pagesSite
	MailDir string
	mu      sync.Mutex
	seen    map[string]bool // .eml files already read
}

func newPortalSite(t *testing.T, b ddbtest.Backend, o ddbtest.StackOptions) *portalSite {
	t.Helper()
	dir := t.TempDir()
	s := newPagesSiteEnv(t, b, o, func(base string) map[string]string {
		vars := map[string]string{"MAIL_DIR": dir, "ORDER_LINK_BASE_URL": base}
		for k, v := range o.Env {
			vars[k] = v
		}
		return vars
	})
	return &portalSite{pagesSite: s, MailDir: dir, seen: map[string]bool{}}
}

// accounts is the portal's accounts service as the team function has it
// (it invites).
func (s *portalSite) accounts(t *testing.T) *portal.Service {
	t.Helper()
	p, err := portalweb.Open(s.env.Deps(t, "PortalTeamFunction"), true)
	if err != nil {
		t.Fatal(err)
	}
	return p.Accounts
}

// invite makes email a member of store with role (the operator's
// cmd/stores invite) and returns the invitation's link from the email.
func (s *portalSite) invite(t *testing.T, store, email string, role portal.Role) string {
	t.Helper()
	if err := s.accounts(t).Invite(context.Background(), portal.Actor{Email: "operator", IP: "127.0.0.1"}, store, email, role, s.URL); err != nil {
		t.Fatal(err)
	}
	return s.link(t, email, portal.InvitePath)
}

var portalLinkRE = regexp.MustCompile(`https?://[^\s"<>]+`)

// link is the newest unread link under path in an email to addr.
func (s *portalSite) link(t *testing.T, addr, path string) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	names := emlFiles(t, s.MailDir)
	sort.Strings(names)
	for i := len(names) - 1; i >= 0; i-- {
		if s.seen[names[i]] {
			continue
		}
		m := readEML(t, names[i])
		if !strings.Contains(m.Header.Get("To"), addr) {
			continue
		}
		for _, l := range portalLinkRE.FindAllString(m.Text, -1) {
			if strings.Contains(l, path) {
				s.seen[names[i]] = true
				return l
			}
		}
	}
	t.Fatalf("no email to %s with a link under %s in %s", addr, path, s.MailDir)
	return ""
}

// mailsTo counts the emails to addr.
func (s *portalSite) mailsTo(t *testing.T, addr string) int {
	t.Helper()
	n := 0
	for _, name := range emlFiles(t, s.MailDir) {
		if strings.Contains(readEML(t, name).Header.Get("To"), addr) {
			n++
		}
	}
	return n
}

// member is a browser of a store member: its own cookies, and the CSRF
// token of the last page it loaded.
type member struct {
	t    *testing.T
	site *portalSite
	c    *http.Client
	csrf string
}

func (s *portalSite) browser(t *testing.T) *member {
	return &member{t: t, site: s, c: browserClient(t)}
}

// get loads path and keeps the page's CSRF token.
func (m *member) get(path string) page {
	m.t.Helper()
	p := fetch(m.t, m.c, http.MethodGet, m.site.URL+path, nil)
	if c := csrfRE.FindStringSubmatch(p.Body); c != nil {
		m.csrf = c[1]
	}
	return p
}

// post sends form to path with the CSRF token of the last page.
func (m *member) post(path string, form url.Values) page {
	m.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", m.csrf)
	}
	return fetch(m.t, m.c, http.MethodPost, m.site.URL+path, form)
}

// follow opens an emailed link (a confirmation page) and presses its
// button, as a person does.
func (m *member) follow(link string) page {
	m.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		m.t.Fatal(err)
	}
	confirm := m.get(u.RequestURI())
	if confirm.Status != http.StatusOK {
		m.t.Fatalf("GET %s: %d\n%s", u.Path, confirm.Status, confirm.Body)
	}
	return m.post(u.Path, url.Values{"token": {u.Query().Get("token")}})
}

// signIn signs the browser in with an email link.
func (m *member) signIn(email string) {
	m.t.Helper()
	m.get("/portal/signin/")
	if p := m.post("/portal/signin/", url.Values{"email": {email}}); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="sent"`) {
		m.t.Fatalf("sign-in request: %d\n%s", p.Status, p.Body)
	}
	p := m.follow(m.site.link(m.t, email, "/portal/signin/link"))
	if p.Status != http.StatusSeeOther {
		m.t.Fatalf("sign-in link: %d\n%s", p.Status, p.Body)
	}
}

// signedInMember invites email to store with role and signs them in.
func (s *portalSite) signedInMember(t *testing.T, store, email string, role portal.Role) *member {
	t.Helper()
	m := s.browser(t)
	if p := m.follow(s.invite(t, store, email, role)); p.Status != http.StatusSeeOther {
		t.Fatalf("accepting the invitation: %d\n%s", p.Status, p.Body)
	}
	return m
}

func TestPortalSignInByEmailLink(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newPortalSite(t, b, ddbtest.StackOptions{})
			owner := s.signedInMember(t, "my-store", "owner@my-store.test", portal.RoleOwner)
			if p := owner.get("/portal/"); p.Status != 200 || !strings.Contains(p.Body, `href="/portal/stores/my-store/overview/"`) {
				t.Fatalf("stores page: %d\n%s", p.Status, p.Body)
			}
			if p := owner.post("/portal/signout/", nil); p.Status != http.StatusSeeOther {
				t.Fatalf("sign out: %d", p.Status)
			}
			if p := owner.get("/portal/"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/portal/signin/") {
				t.Fatalf("after sign-out: %d %s", p.Status, p.Header.Get("Location"))
			}

			owner.signIn("owner@my-store.test")
			if p := owner.get("/portal/"); p.Status != http.StatusOK {
				t.Fatalf("signed in again by link: %d", p.Status)
			}

			// A link works once, in the browser that asked for it.
			owner.get("/portal/signin/")
			owner.post("/portal/signin/", url.Values{"email": {"owner@my-store.test"}})
			link := s.link(t, "owner@my-store.test", "/portal/signin/link")
			thief := s.browser(t)
			if p := thief.follow(link); p.Status != http.StatusGone {
				t.Errorf("another browser's link: %d, want 410", p.Status)
			}
			if p := owner.follow(link); p.Status != http.StatusSeeOther {
				t.Fatalf("the link: %d\n%s", p.Status, p.Body)
			}
			if p := owner.follow(link); p.Status != http.StatusGone {
				t.Errorf("the link again: %d, want 410", p.Status)
			}

			// An address without an account gets the same page and no email.
			stranger := s.browser(t)
			stranger.get("/portal/signin/")
			p := stranger.post("/portal/signin/", url.Values{"email": {"nobody@example.com"}})
			if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="sent"`) {
				t.Errorf("unknown address: %d", p.Status)
			}
			if n := s.mailsTo(t, "nobody@example.com"); n != 0 {
				t.Errorf("%d emails to an unknown address", n)
			}

			// Tampered cookie and CSRF token.
			forged := s.browser(t)
			u, _ := url.Parse(s.URL)
			forged.c.Jar.SetCookies(u, []*http.Cookie{{Name: "tollgate_portal", Value: "forged-session-token"}})
			if p := forged.get("/portal/"); p.Status != http.StatusSeeOther {
				t.Errorf("forged session: %d, want a redirect to sign-in", p.Status)
			}
			if p := owner.post("/portal/signout/", url.Values{"csrf": {"tampered"}}); p.Status != http.StatusForbidden {
				t.Errorf("tampered CSRF token: %d, want 403", p.Status)
			}
		})
	}
}

func TestPortalStoreAccessIsByRole(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	s := newPortalSite(t, b, ddbtest.StackOptions{})
	support := s.signedInMember(t, "my-store", "support@my-store.test", portal.RoleSupport)
	for path, want := range map[string]int{
		"/portal/stores/my-store/":           http.StatusSeeOther, // to the overview
		"/portal/stores/evil-store/":         http.StatusNotFound, // exists, not theirs
		"/portal/stores/no-such-store/":      http.StatusNotFound,
		"/portal/stores/evil-store/apikeys/": http.StatusNotFound,
		"/portal/stores/evil-store/team/":    http.StatusNotFound,
	} {
		if p := support.get(path); p.Status != want {
			t.Errorf("support GET %s: %d, want %d", path, p.Status, want)
		}
	}
	if p := s.browser(t).get("/portal/stores/my-store/"); p.Status != http.StatusSeeOther || !strings.Contains(p.Header.Get("Location"), "next=") {
		t.Errorf("signed out: %d %s, want a redirect to sign in and back", p.Status, p.Header.Get("Location"))
	}
}

// A session ends 2 hours after its last use and 12 hours after its
// sign-in; a sign-in older than 10 minutes is asked again before a
// sensitive change; too many link requests get the 429 page.
func TestPortalSessionLimits(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	s := newPortalSite(t, b, ddbtest.StackOptions{})
	later := func(d time.Duration) { s.clock.Add(int64(d)) }
	owner := s.signedInMember(t, "my-store", "owner@my-store.test", portal.RoleOwner)

	later(11 * time.Minute)
	owner.get("/portal/account/")
	p := owner.post("/portal/account/", url.Values{"action": {"remove"}, "id": {"AAAA"}})
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, `id="reauth"`) {
		t.Errorf("removing a passkey 11 minutes after sign-in: %d, want the sign-in-again page", p.Status)
	}

	// Used every 90 minutes, the session lives to its 12th hour.
	for elapsed := 11 * time.Minute; elapsed+90*time.Minute < 12*time.Hour; elapsed += 90 * time.Minute {
		later(90 * time.Minute)
		if p := owner.get("/portal/"); p.Status != http.StatusOK {
			t.Fatalf("session used every 90 minutes, at %v: %d", elapsed+90*time.Minute, p.Status)
		}
	}
	later(90 * time.Minute)
	if p := owner.get("/portal/"); p.Status != http.StatusSeeOther {
		t.Errorf("after 12 hours: %d, want the sign-in redirect", p.Status)
	}

	idle := s.signedInMember(t, "my-store", "dev@my-store.test", portal.RoleDeveloper)
	later(2*time.Hour + time.Second)
	if p := idle.get("/portal/"); p.Status != http.StatusSeeOther {
		t.Errorf("after 2 idle hours: %d, want the sign-in redirect", p.Status)
	}

	asker := s.browser(t)
	asker.get("/portal/signin/")
	var last page
	for i := 0; i < 6; i++ {
		last = asker.post("/portal/signin/", url.Values{"email": {"owner@my-store.test"}})
	}
	if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Errorf("6th link request in 15 minutes: %d, Retry-After %q", last.Status, last.Header.Get("Retry-After"))
	}
}

// The floor every portal page stands on, counted on the wire: the
// session's GetItem, then the page's own reads (BENCHMARKS).
func TestPortalRoundTrips(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	tr := ddbtest.NewTransport()
	s := newPortalSite(t, b, ddbtest.StackOptions{Transport: tr})
	owner := s.signedInMember(t, "my-store", "owner@my-store.test", portal.RoleOwner)
	for _, c := range []struct {
		path   string
		status int
		want   int
		why    string
	}{
		{"/portal/", http.StatusOK, 2, "session, memberships"},
		{"/portal/stores/my-store/", http.StatusSeeOther, 3, "session, role, store listing"},
		{"/portal/account/", http.StatusOK, 2, "session, passkeys"},
	} {
		tr.Reset()
		if p := owner.get(c.path); p.Status != c.status {
			t.Fatalf("GET %s: %d", c.path, p.Status)
		}
		if got := len(tr.Calls()); got != c.want {
			t.Errorf("GET %s: %d DynamoDB calls, want %d (%s): %v", c.path, got, c.want, c.why, tr.Calls())
		}
	}
}
