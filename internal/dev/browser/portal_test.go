package browser_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/tollgate-dev/tollgate/functions"
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

	// API keys: a test key is shown once, works at once, and is refused
	// the moment it is revoked.
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/portal/stores/my-store/apikeys/"), chromedp.WaitVisible(chromedp.CSS("#key-name")),
		chromedp.SendKeys(chromedp.CSS("#key-name"), "browser test"))
	checkContrast(t, ctx, "portal API keys")
	browser.Submit(t, ctx, "#create-key")
	key := browser.Text(t, ctx, "#key-value")
	if got := s.fulfil(t, key, "portal-browser-1"); got != http.StatusCreated {
		t.Fatalf("fulfil with the new key: %d, want 201", got)
	}
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/portal/stores/my-store/apikeys/"), chromedp.WaitVisible(chromedp.CSS("#keys")),
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#keys tbody tr")].find(r => r.textContent.includes("browser test")).querySelector("button").id = "revoke-this"`))
	browser.Submit(t, ctx, "#revoke-this")
	browser.Submit(t, ctx, "#confirm")
	if got := s.fulfil(t, key, "portal-browser-2"); got != http.StatusUnauthorized {
		t.Fatalf("fulfil with the revoked key: %d, want 401", got)
	}

	// Webhooks: the URL of a local receiver, a new secret (shown once), a
	// test event whose signature the receiver checks with crypto/hmac.
	recv := newReceiver(t)
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/portal/stores/my-store/settings/"), chromedp.WaitVisible(chromedp.CSS("#webhookUrl")),
		chromedp.SetValue(chromedp.CSS("#webhookUrl"), recv.URL+"/hooks"))
	browser.Submit(t, ctx, "#save")
	browser.Submit(t, ctx, "#rotate")
	secret := browser.Text(t, ctx, "#secret-value")
	recv.setSecret(secret)
	browser.Submit(t, ctx, "#send-test")
	wantContains(t, ctx, "#test-status", "200")
	if !recv.verified() {
		t.Fatal("the test event's signature did not verify with the new secret")
	}

	// License keys: pasted for a SKU, the level rises.
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/portal/stores/my-store/licenses/"), chromedp.WaitVisible(chromedp.CSS("#levels")))
	before := browser.Text(t, ctx, "#levels")
	browser.Do(t, ctx, chromedp.SetValue(chromedp.CSS("#sku"), "WIN-11-PRO"),
		chromedp.SendKeys(chromedp.CSS("#keys"), "PORTA-L0000-00000-00001\nPORTA-L0000-00000-00002\n"+strings.Repeat("X", 300)))
	browser.Submit(t, ctx, "#upload")
	wantContains(t, ctx, "#added", "2")
	wantContains(t, ctx, "#invalid-lines", "3")
	if after := browser.Text(t, ctx, "#levels"); after == before {
		t.Errorf("levels unchanged after an upload: %q", after)
	}

	// Products: a new product listed on the marketplace shows on /market/.
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/portal/stores/my-store/products/"), chromedp.WaitVisible(chromedp.CSS("#create")),
		chromedp.SendKeys(chromedp.CSS("#sku"), "PORTAL-GAME"), chromedp.SendKeys(chromedp.CSS("#name"), "Portal Game"),
		chromedp.SendKeys(chromedp.CSS("#prices"), "GBP 12.50"))
	browser.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("active").checked = true; document.getElementById("marketplace").checked = true`))
	browser.Submit(t, ctx, "#create")
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/market/"), chromedp.WaitVisible(chromedp.CSS("main")))
	wantContains(t, ctx, "main", "Portal Game")

	// A buyer pays on the hosted checkout; the owner refunds the order.
	buyerCtx := browser.NewBrowserContext(t, ctx)
	browser.Do(t, buyerCtx, chromedp.Navigate(site{URL: s.URL}.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP", "locale": "en"}`)), chromedp.WaitVisible(chromedp.CSS("#lines")))
	buyer{email: "refund-me@example.com", country: "GB"}.fill(t, buyerCtx)
	payAndWait(t, buyerCtx, 1)
	s.dispatch(t) // order.created and order.fulfilled, the receipt

	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/portal/stores/my-store/orders/"), chromedp.WaitVisible(chromedp.CSS("#orders")))
	checkContrast(t, ctx, "portal orders")
	browser.Submit(t, ctx, "#orders tbody tr:first-child a")
	wantContains(t, ctx, "#summary", "refund-me@example.com")
	orderURL := browser.Run(t, ctx, chromedp.Location())
	browser.Submit(t, ctx, "#refund-ask")
	browser.Submit(t, ctx, "#refund-yes")
	wantContains(t, ctx, "#status", "refunded")
	s.dispatch(t)
	browser.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#events")))
	wantContains(t, ctx, "#events", "order.refunded")
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/dev/mail/"), chromedp.WaitVisible(chromedp.CSS("table a")))
	wantContains(t, ctx, "tbody tr:first-child", "refund-me@example.com")

	// A support member: orders yes, API keys no, another store's order
	// (by editing the URL) not found.
	if err := s.accounts.Invite(context.Background(), portal.Actor{Email: owner, IP: "127.0.0.1"}, "my-store", "support@my-store.test", portal.RoleSupport, s.URL); err != nil {
		t.Fatal(err)
	}
	support := browser.NewBrowserContext(t, ctx)
	openNewestMailLink(t, support, s.URL, "/portal/invite")
	browser.Do(t, support, chromedp.Navigate(orderURL), chromedp.WaitVisible(chromedp.CSS("#summary")))
	browser.Do(t, support, chromedp.Navigate(s.URL+"/portal/stores/my-store/apikeys/"), chromedp.WaitVisible(chromedp.CSS("#error")))
	wantStatus(t, support, "403")
	browser.Do(t, support, chromedp.Navigate(strings.Replace(orderURL, "/my-store/", "/other-store/", 1)), chromedp.WaitVisible(chromedp.CSS("#error")))
	wantStatus(t, support, "404")
}

// dispatch runs the dispatcher once, as its schedule does.
func (s portalSite) dispatch(t *testing.T) {
	t.Helper()
	job, err := s.env.Stack.Job("DispatchFunction", functions.Jobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := job(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// wantStatus fails the test unless the page is the error page of status.
func wantStatus(t *testing.T, ctx context.Context, status string) {
	t.Helper()
	if got := browser.Run(t, ctx, chromedp.AttributeValue(chromedp.CSS("#error"), "data-status")); got.Value != status {
		t.Errorf("error page %q, want %s", got.Value, status)
	}
}

// wantContains fails the test unless the element at css contains want.
func wantContains(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	if got := browser.Text(t, ctx, css); !strings.Contains(got, want) {
		t.Errorf("%s shows %q, want it to contain %q", css, got, want)
	}
}

// fulfil is a store server's licensing call with key: the answer's status.
func (s portalSite) fulfil(t *testing.T, key, ref string) int {
	t.Helper()
	body := `{"customer_email": "api@example.com", "items": [{"sku": "WIN-11-PRO", "quantity": 1}], "external_reference": "` + ref + `", "currency": "GBP", "total_minor": 2999}`
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/stores/my-store/licensing/fulfill/", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// receiver is a store's webhook endpoint that checks each delivery's
// X-Tollgate-Signature (HMAC-SHA256 of the body, docs/webhooks.md) with
// the standard library.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	ok     bool
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		m := hmac.New(sha256.New, []byte(r.secret))
		m.Write(body)
		want := "sha256=" + hex.EncodeToString(m.Sum(nil))
		for _, sig := range strings.Split(req.Header.Get("X-Tollgate-Signature"), ",") {
			if hmac.Equal([]byte(strings.TrimSpace(sig)), []byte(want)) {
				r.ok = true
			}
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "received")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }
func (r *receiver) verified() bool     { r.mu.Lock(); defer r.mu.Unlock(); return r.ok }
