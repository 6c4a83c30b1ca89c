package browser_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/tollgate-dev/tollgate/internal/dev/browser"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/portalweb"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// portalSite is make run's stack with its mailbox, reached as
// http://localhost:<port>: a passkey's relying party is a domain name,
// never an IP address.
type portalSite struct {
	URL      string
	env      *ddbtest.Env
	accounts *portal.Service
}

func newPortalSite(t *testing.T) portalSite {
	t.Helper()
	browser.Require(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base := "http://localhost:" + port
	dir := t.TempDir()
	env := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{
		Env:    map[string]string{"PUBLIC_BASE_URL": base, "MAIL_DIR": dir, "ORDER_LINK_BASE_URL": base},
		Stores: stores.Sample,
	})
	mux := http.NewServeMux()
	mux.Handle("/dev/mail/", localenv.MailHandler(dir, nil))
	mux.Handle("/", env.Router(t))
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	p, err := portalweb.Open(env.Deps(t, "PortalTeamFunction"), true)
	if err != nil {
		t.Fatal(err)
	}
	return portalSite{URL: base, env: env, accounts: p.Accounts}
}

// openNewestMailLink opens /dev/mail/, the newest email, and the link in
// it under path: what a person does under make run.
func openNewestMailLink(t *testing.T, ctx context.Context, base, path string) {
	t.Helper()
	browser.Do(t, ctx, chromedp.Navigate(base+"/dev/mail/"), chromedp.WaitVisible(chromedp.CSS("table a")))
	browser.Submit(t, ctx, "tbody tr:first-child a")
	href := browser.Run(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("a")].map(a => a.href).find(h => h.includes("`+path+`")) || ""`))
	if href == "" {
		t.Fatalf("the newest email has no link under %s", path)
	}
	browser.Do(t, ctx, chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS("#confirm")))
	browser.Submit(t, ctx, "#confirm")
}

// addAuthenticator gives the tab a platform authenticator that holds
// passkeys and verifies its user (Chrome DevTools' WebAuthn domain).
func addAuthenticator(t *testing.T, ctx context.Context) {
	t.Helper()
	browser.Run(t, ctx, chromedp.Action[webauthn.AuthenticatorID](func(ctx context.Context, tg *chromedp.Target) (webauthn.AuthenticatorID, error) {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return "", err
		}
		res, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		return res.AuthenticatorID, err
	}))
}

// The store owner's day on the portal, in Chromium: sign in by email
// link from the mailbox, add a passkey, sign out and back in with it.
func TestBrowserPortalOwner(t *testing.T) {
	s := newPortalSite(t)
	const owner = "owner@my-store.test"
	if err := s.accounts.Invite(context.Background(), portal.Actor{Email: "operator", IP: "127.0.0.1"}, "my-store", owner, portal.RoleOwner, s.URL); err != nil {
		t.Fatal(err)
	}
	ctx := browser.Start(t)
	openNewestMailLink(t, ctx, s.URL, "/portal/invite")
	if got := browser.Text(t, ctx, "a.store"); got != "my-store" {
		t.Fatalf("after accepting the invitation the stores page lists %q", got)
	}
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/portal/"), chromedp.WaitVisible(chromedp.CSS("header form button")))
	browser.Submit(t, ctx, "header form button")

	// Email link.
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#email")), chromedp.SendKeys(chromedp.CSS("#email"), owner))
	browser.Submit(t, ctx, "#send-link")
	wantContains(t, ctx, "#sent", owner)
	openNewestMailLink(t, ctx, s.URL, "/portal/signin/link")
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("a.store")))

	// A passkey, added on the account page.
	addAuthenticator(t, ctx)
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/portal/account/"), chromedp.WaitVisible(chromedp.CSS("#passkey-add")),
		chromedp.SendKeys(chromedp.CSS("#passkey-name"), "Test laptop"))
	browser.Submit(t, ctx, "#passkey-add")
	wantContains(t, ctx, "#flash", "Passkey added")
	wantContains(t, ctx, "#passkeys", "Test laptop")

	// Out, and back in with the passkey: no email.
	browser.Submit(t, ctx, "header form button")
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#passkey-signin")))
	browser.Submit(t, ctx, "#passkey-signin")
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("a.store")))
	if got := browser.Text(t, ctx, "header .note"); !strings.Contains(got, owner) {
		t.Fatalf("signed in with the passkey as %q", got)
	}
}

// wantContains fails the test unless the element at css contains want.
func wantContains(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	if got := browser.Text(t, ctx, css); !strings.Contains(got, want) {
		t.Errorf("%s shows %q, want it to contain %q", css, got, want)
	}
}
