package browser_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/browser"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// The purchase a person makes under make run, to the end: pay on the
// hosted cart, the dispatcher runs, /dev/mail/ lists the receipt, it
// shows the keys the order page showed, and its order link opens that
// order page.
func TestBrowserReceiptInMailbox(t *testing.T) {
	browser.Require(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	dir := t.TempDir()
	env := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{
		Env:    map[string]string{"PUBLIC_BASE_URL": base, "MAIL_DIR": dir, "ORDER_LINK_BASE_URL": base},
		Stores: stores.Sample,
	})
	// As cmd/local serves them: the mailbox beside the API.
	mux := http.NewServeMux()
	mux.Handle("/dev/mail/", localenv.MailHandler(dir, nil))
	mux.Handle("/", env.Router(t))
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	s := site{URL: base, Store: env.Deps(t, "CheckoutOrderFunction").Store}

	ctx := browser.Start(t)
	browser.Do(t, ctx, chromedp.Navigate(s.session(t, `{"cart": {"WIN-11-PRO": 2}, "currency": "GBP", "locale": "en"}`)), chromedp.WaitVisible(chromedp.CSS("#lines")))
	buyer{email: "mailbox@example.com", country: "GB"}.fill(t, ctx)
	payAndWait(t, ctx, 2)
	keys := browser.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".license-key")].map(e => e.textContent)`))
	job, err := env.Stack.Job("DispatchFunction", functions.Jobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := job(context.Background()); err != nil {
		t.Fatal(err)
	}

	browser.Do(t, ctx, chromedp.Navigate(base+"/dev/mail/"), chromedp.WaitVisible(chromedp.CSS("table a")))
	browser.Screenshot(t, ctx, "mailbox")
	if subject := browser.Text(t, ctx, "table a"); !strings.HasPrefix(subject, "My Store: receipt for order ORD-") {
		t.Fatalf("the mailbox's first message is %q", subject)
	}
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("table a")), chromedp.WaitVisible(chromedp.CSS("#text")))
	browser.Screenshot(t, ctx, "receipt")
	text := browser.Text(t, ctx, "#text")
	for _, k := range keys {
		if !strings.Contains(text, k) {
			t.Errorf("the receipt lacks key %q:\n%s", k, text)
		}
	}
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("ul a")), chromedp.WaitVisible(chromedp.CSS(".license-key")))
	again := browser.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".license-key")].map(e => e.textContent)`))
	if strings.Join(again, ",") != strings.Join(keys, ",") {
		t.Fatalf("the receipt's order link shows keys %v, the order page showed %v", again, keys)
	}
}
