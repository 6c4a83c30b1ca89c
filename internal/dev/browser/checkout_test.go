package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tollgate-dev/tollgate/internal/dev/browser"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// site is Tollgate as make run serves it, on a loopback port, on the
// embedded DynamoDB with the sample stores.
type site struct {
	URL   string
	Store dynamo.Store
}

func newSite(t *testing.T) site {
	t.Helper()
	browser.Require(t) // skip before standing anything up
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	env := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{
		Env:    map[string]string{"PUBLIC_BASE_URL": base},
		Stores: stores.Sample,
	})
	srv := httptest.NewUnstartedServer(env.Router(t))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return site{URL: base, Store: env.Deps(t, "CheckoutOrderFunction").Store}
}

// session creates a checkout session through the API, as a store's server
// does, and returns its checkout_url.
func (s site) session(t *testing.T, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/stores/my-store/checkout/session/", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk_test_local_only_1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		CheckoutURL string `json:"checkout_url"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &out) != nil {
		t.Fatalf("session: %d %s", resp.StatusCode, b)
	}
	return out.CheckoutURL
}

func wantText(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	if got := browser.Text(t, ctx, css); got != want {
		t.Errorf("%s shows %q, want %q", css, got, want)
	}
}

func wantValue(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	if got := browser.Run(t, ctx, chromedp.Value(chromedp.CSS(css))); got != want {
		t.Errorf("%s holds %q, want %q", css, got, want)
	}
}

// buyer fills the cart's form as a person does. With script, the country
// is chosen with a change event (the page's script may add the
// subdivision list at once); without, the value is set silently, as when
// JavaScript is off, and the server asks for the subdivision.
type buyer struct {
	email, country, subdivision string
	script                      bool
}

func (b buyer) fill(t *testing.T, ctx context.Context) {
	t.Helper()
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#email")), chromedp.Clear(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), b.email), chromedp.SetValue(chromedp.CSS("#country"), b.country))
	if b.script {
		browser.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("country").dispatchEvent(new Event("change"))`))
	}
	if b.subdivision == "" {
		browser.Submit(t, ctx, "#continue")
		return
	}
	if !b.script {
		// Without the script the first submit brings the list back.
		browser.Submit(t, ctx, "#continue")
		browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#message")))
	}
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#subdivision")))
	browser.Screenshot(t, ctx, "subdivision")
	browser.Do(t, ctx, chromedp.SetValue(chromedp.CSS("#subdivision"), b.subdivision))
	browser.Submit(t, ctx, "#continue")
}

// payAndWait pays on the sandbox's pay page with the succeeding test card
// and waits on the order page for n keys; it returns the pay page's total.
func payAndWait(t *testing.T, ctx context.Context, keys int) (total string) {
	t.Helper()
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#card-ok")))
	browser.Screenshot(t, ctx, "pay")
	checkContrast(t, ctx, "pay page")
	total = browser.Text(t, ctx, "#total")
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS("#card-ok")))
	browser.Submit(t, ctx, "#pay")
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".license-key")))
	browser.Screenshot(t, ctx, "order")
	checkContrast(t, ctx, "order page")
	n := len(browser.Run(t, ctx, chromedp.Nodes(chromedp.CSSAll(".license-key"))))
	if n != keys {
		t.Errorf("the order page shows %d keys, want %d", n, keys)
	}
	if got := browser.Text(t, ctx, "#total"); got != total {
		t.Errorf("the order's total %q differs from the pay page's %q", got, total)
	}
	if st := browser.Run(t, ctx, chromedp.AttributeValue(chromedp.CSS("#status"), "data-status")); st.Value != "fulfilled" {
		t.Errorf("status %q", st.Value)
	}
	return total
}

// contrastJS lists the visible texts whose contrast with their background
// is under WCAG AA's 4.5:1.
const contrastJS = `(() => {
  const lum = c => {
    const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const bg = e => {
    for (; e; e = e.parentElement) {
      const m = getComputedStyle(e).backgroundColor.match(/[\d.]+/g);
      if (m && (m.length < 4 || +m[3] > 0)) return getComputedStyle(e).backgroundColor;
    }
    return "rgb(255, 255, 255)";
  };
  const low = [];
  for (const e of document.querySelectorAll("h1, h2, h3, p, th, td, label, legend, button, a, dt, dd, li, span, code, option")) {
    if (!e.textContent.trim() || e.getClientRects().length === 0) continue;
    const a = lum(getComputedStyle(e).color), b = lum(bg(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(e.tagName + " " + e.textContent.trim().slice(0, 30) + ": " + ratio.toFixed(2));
  }
  return low;
})()`

// checkContrast fails the test for any text of the page under 4.5:1.
func checkContrast(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if low := browser.Run(t, ctx, chromedp.Evaluate[[]string](contrastJS)); len(low) > 0 {
		t.Errorf("%s: text under 4.5:1 contrast: %v", page, low)
	}
}

var keyShape = regexp.MustCompile(`^[A-Z0-9]{5}(-[A-Z0-9]{5}){3}$`)

// A checkout session through the API, then in the browser: the cart, the
// buyer form (a US state with and without JavaScript), the sandbox's test
// card, the order page with the keys.
func TestBrowserSessionPurchase(t *testing.T) {
	cases := []struct {
		name                              string
		session                           string
		buyer                             buyer
		lang, unit, subtotal, total, keys string
		tax, includes                     string // the order's tax, and the "includes" line of a VAT-inclusive price
		nkeys                             int
	}{
		// GBP prices include VAT (the store's default): the total is the
		// prices' sum, the VAT 5998/6 = 999.67 of it.
		{name: "GB VAT in English", session: `{"cart": {"WIN-11-PRO": 2}, "currency": "GBP", "locale": "en", "metadata": {"external_reference": "browser-1"}}`,
			buyer: buyer{email: "buyer@example.com", country: "GB"}, lang: "en", unit: "£29.99", subtotal: "£59.98", total: "£59.98",
			tax: "£10.00", includes: "includes VAT 20%", nkeys: 2},
		// USD prices exclude tax: California's 8.25% of 34.99 is 2.886675 → 2.89.
		{name: "US state without JavaScript", session: `{"cart": {"WIN-11-PRO": 1}, "currency": "USD", "locale": "en"}`,
			buyer: buyer{email: "us@example.com", country: "US", subdivision: "CA"}, lang: "en", unit: "$34.99", subtotal: "$34.99", total: "$37.88",
			tax: "$2.89", nkeys: 1},
		// New York's 4% of 34.99 is 1.3996 → 1.40.
		{name: "US state with JavaScript in German", session: `{"cart": {"WIN-11-PRO": 1}, "currency": "USD", "locale": "de"}`,
			buyer: buyer{email: "de@example.com", country: "US", subdivision: "NY", script: true}, lang: "de", unit: "34,99\u00a0$", subtotal: "34,99\u00a0$",
			total: "36,39\u00a0$", tax: "1,40\u00a0$", nkeys: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSite(t)
			ctx := browser.Start(t)
			browser.Do(t, ctx, chromedp.Navigate(s.session(t, c.session)), chromedp.WaitVisible(chromedp.CSS("#lines")))
			browser.Screenshot(t, ctx, "cart")
			checkContrast(t, ctx, "cart")
			if lang := browser.Run(t, ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang")); lang.Value != c.lang {
				t.Errorf("<html lang=%q>, want %q", lang.Value, c.lang)
			}
			wantText(t, ctx, ".brand", "My Store")
			wantText(t, ctx, ".line .name", "Windows 11 Pro")
			wantText(t, ctx, ".line .unit", c.unit)
			wantText(t, ctx, "#subtotal", c.subtotal)
			c.buyer.fill(t, ctx)
			total := payAndWait(t, ctx, c.nkeys)
			if c.total != "" && total != c.total {
				t.Errorf("total %q, want %q", total, c.total)
			}
			wantText(t, ctx, "#tax", c.tax) // the order page's, as recorded with the order
			if c.includes != "" {
				wantText(t, ctx, "tr.included th", c.includes)
			}
			for _, k := range browser.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".license-key")].map(e => e.textContent)`)) {
				if !keyShape.MatchString(k) {
					t.Errorf("key %q", k)
				}
			}
		})
	}
}

// The add-to-cart links: the same SKU twice adds quantity, the cart
// lives in the browser's cookie; then the purchase.
func TestBrowserAddToCartLinks(t *testing.T) {
	s := newSite(t)
	ctx := browser.Start(t)
	browser.Do(t, ctx,
		chromedp.Navigate(s.URL+"/s/my-store/cart/?add=WIN-11-PRO&currency=GBP"),
		chromedp.Navigate(s.URL+"/s/my-store/cart/?items=WIN-11-PRO:1,OFFICE-2024:1&currency=GBP"),
		chromedp.WaitVisible(chromedp.CSS("#lines")))
	browser.Screenshot(t, ctx, "cart")
	if loc := browser.Run(t, ctx, chromedp.Location()); loc != s.URL+"/s/my-store/cart/" {
		t.Errorf("location %q: the link should redirect to the clean cart", loc)
	}
	checkContrast(t, ctx, "cookie cart")
	wantValue(t, ctx, "#qty-WIN-11-PRO", "2")
	wantValue(t, ctx, "#qty-OFFICE-2024", "1")
	wantText(t, ctx, "#subtotal", "£109.97")
	// A reload adds nothing.
	browser.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#lines")))
	wantValue(t, ctx, "#qty-WIN-11-PRO", "2")
	// The customer edits the cart: a new quantity typed and Enter (which
	// must update, not press the first line's Remove), then a Remove.
	browser.Do(t, ctx, chromedp.Focus(chromedp.CSS("#qty-OFFICE-2024")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("qty-OFFICE-2024").select()`),
		chromedp.KeyEvent("3"), chromedp.KeyEvent("\r"),
		// The value attribute is the server's: 3 only on the page after the update.
		chromedp.WaitVisible(chromedp.CSS(`#qty-OFFICE-2024[value="3"]`)))
	wantValue(t, ctx, "#qty-WIN-11-PRO", "2")
	wantValue(t, ctx, "#qty-OFFICE-2024", "3")
	wantText(t, ctx, "#subtotal", "£209.95")
	browser.Screenshot(t, ctx, "cart-edited")
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`[data-sku="OFFICE-2024"] button.remove`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-sku="OFFICE-2024"]`)), chromedp.WaitVisible(chromedp.CSS("#lines")))
	wantText(t, ctx, "#subtotal", "£59.98")
	buyer{email: "links@example.com", country: "FR"}.fill(t, ctx)
	if total := payAndWait(t, ctx, 2); total != "£59.98" { // GBP prices include VAT: France's 20% is 59.98/6 = 9.9967 → 10.00 of it
		t.Errorf("total %q", total)
	}
	wantText(t, ctx, "tr.included th", "includes VAT 20%")
	wantText(t, ctx, "#tax", "£10.00")
	// A malformed link is a page that says why.
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/s/my-store/cart/?items=WIN-11-PRO:0&currency=GBP"), chromedp.WaitVisible(chromedp.CSS("#detail")))
	browser.Screenshot(t, ctx, "malformed")
	checkContrast(t, ctx, "error page")
	if d := browser.Text(t, ctx, "#detail"); !strings.Contains(d, "SKU:QUANTITY") {
		t.Errorf("the malformed page says %q", d)
	}
}

// /market/: a listed product's add-to-cart link into its store's cart; the
// order records source marketplace.
func TestBrowserMarket(t *testing.T) {
	s := newSite(t)
	ctx := browser.Start(t)
	browser.Do(t, ctx, chromedp.Navigate(s.URL+"/market/"), chromedp.WaitVisible(chromedp.CSS("#products")))
	browser.Screenshot(t, ctx, "market")
	checkContrast(t, ctx, "market")
	wantText(t, ctx, `[data-sku="WIN-11-PRO"] .name`, "Windows 11 Pro")
	wantText(t, ctx, `[data-sku="WIN-11-PRO"] .store`, "My Store")
	browser.Do(t, ctx, chromedp.Click(chromedp.CSS(`[data-sku="WIN-11-PRO"] a.add[href*="currency=GBP"]`)), chromedp.WaitVisible(chromedp.CSS("#lines")))
	wantValue(t, ctx, "#qty-WIN-11-PRO", "1")
	buyer{email: "market@example.com", country: "DE"}.fill(t, ctx)
	payAndWait(t, ctx, 1)
	loc := browser.Run(t, ctx, chromedp.Location())
	id := regexp.MustCompile(`/orders/(ORD-[0-9A-Z]{12})/`).FindStringSubmatch(loc)
	if id == nil {
		t.Fatalf("order page at %q", loc)
	}
	o, found, err := stores.GetOrder(context.Background(), s.Store, "my-store", id[1])
	if err != nil || !found || o.Source != stores.SourceMarketplace {
		t.Fatalf("order %s: found %v, source %q, %v; want source marketplace", id[1], found, o.Source, err)
	}
}

// A declined test card shows why and lets the customer pay again.
func TestBrowserDeclinedCard(t *testing.T) {
	s := newSite(t)
	ctx := browser.Start(t)
	browser.Do(t, ctx, chromedp.Navigate(s.session(t, `{"cart": {"OFFICE-2024": 1}, "currency": "GBP"}`)))
	buyer{email: "declined@example.com", country: "GB"}.fill(t, ctx)
	browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#card-declined")), chromedp.Click(chromedp.CSS("#card-declined")),
		chromedp.Click(chromedp.CSS("#pay")), chromedp.WaitVisible(chromedp.CSS("#message")))
	browser.Screenshot(t, ctx, "declined")
	checkContrast(t, ctx, "declined pay page")
	if m := browser.Text(t, ctx, "#message"); !strings.Contains(m, "declined") {
		t.Errorf("message %q", m)
	}
	payAndWait(t, ctx, 1)
}

// Keyboard only: Tab walks the cart from the skip link through the form in
// reading order, each stop visibly focused, and Enter submits.
func TestBrowserKeyboard(t *testing.T) {
	s := newSite(t)
	ctx := browser.Start(t)
	browser.Do(t, ctx, chromedp.Navigate(s.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP", "metadata": {"return_url_cancel": "https://shop.example/cancel"}}`)),
		chromedp.WaitVisible(chromedp.CSS("#lines")))
	want := []string{"skip", "email", "country", "continue", "cancel"}
	var got []string
	for range want {
		browser.Do(t, ctx, chromedp.KeyEvent("\t"))
		got = append(got, browser.Run(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)))
		outline := browser.Run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`))
		if outline == "none" {
			t.Errorf("%s has no visible focus", got[len(got)-1])
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("focus order %v, want %v", got, want)
	}
	// Every form control has a label.
	unlabelled := browser.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("input:not([type=hidden]), select")].filter(e => !e.labels || e.labels.length === 0).map(e => e.id || e.name)`))
	if len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v", unlabelled)
	}
	// A bad email comes back focused, marked invalid and described by the message.
	browser.Do(t, ctx, chromedp.Focus(chromedp.CSS("#email")), chromedp.KeyEvent("not-an-email"),
		chromedp.SetValue(chromedp.CSS("#country"), "GB"), chromedp.Evaluate[chromedp.Void](`document.getElementById("checkout").noValidate = true`),
		chromedp.Click(chromedp.CSS("#continue")), chromedp.WaitVisible(chromedp.CSS("#message")))
	browser.Screenshot(t, ctx, "invalid-email")
	checkContrast(t, ctx, "cart with a message")
	if got := browser.Run(t, ctx, chromedp.Evaluate[string](`document.activeElement.id + " " + document.activeElement.getAttribute("aria-invalid") + " " + document.activeElement.getAttribute("aria-describedby")`)); got != "email true message email-help" {
		t.Errorf("after a bad email the focus is on %q", got)
	}
	browser.Do(t, ctx, chromedp.Clear(chromedp.CSS("#email")))
	// Keyboard only to the pay page: type the email, pick the country by
	// typing, Enter.
	browser.Do(t, ctx, chromedp.Focus(chromedp.CSS("#email")), chromedp.KeyEvent("keys@example.com"),
		chromedp.Focus(chromedp.CSS("#country")), chromedp.SetValue(chromedp.CSS("#country"), "GB"),
		chromedp.Focus(chromedp.CSS("#email")), chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("#card-ok")))
	browser.Screenshot(t, ctx, "pay")
}

// An add-to-cart order belongs to the browser that placed it. A second
// browser (its own cookie jar) that posts the same cart with the buyer's
// email and country, all public, and keeps where it was sent never reaches
// the buyer's order page nor the keys the buyer paid for, whichever of the
// two places its order first.
func TestBrowserCartOrderIsTheBrowsers(t *testing.T) {
	s := newSite(t)
	root := browser.Start(t)
	for i, first := range []string{"other browser", "buyer"} {
		t.Run(first+" first", func(t *testing.T) {
			other, victim := browser.NewBrowserContext(t, root), browser.NewBrowserContext(t, root)
			email := fmt.Sprintf("victim%d@example.com", i)
			place := func(ctx context.Context) string {
				t.Helper()
				browser.Do(t, ctx, chromedp.Navigate(s.URL+"/s/my-store/cart/?add=WIN-11-PRO&currency=GBP"), chromedp.WaitVisible(chromedp.CSS("#lines")))
				buyer{email: email, country: "GB"}.fill(t, ctx)
				browser.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#card-ok")))
				return browser.Run(t, ctx, chromedp.Location())
			}
			var otherURL, victimURL string
			if first == "buyer" {
				victimURL = place(victim)
				otherURL = place(other)
			} else {
				otherURL = place(other)
				victimURL = place(victim)
			}
			if otherURL == victimURL {
				t.Errorf("two browsers were sent to one pay page: %s", victimURL)
			}
			payAndWait(t, victim, 1)
			key := browser.Text(t, victim, ".license-key")
			browser.Do(t, other, chromedp.Navigate(otherURL), chromedp.WaitVisible(chromedp.CSS("main")))
			browser.Screenshot(t, other, "other-browser")
			shown := browser.Run(t, other, chromedp.Evaluate[string](`document.body.innerText`))
			if strings.Contains(shown, key) {
				t.Fatalf("the other browser reads the buyer's key %s at %s", key, browser.Run(t, other, chromedp.Location()))
			}
			if n := browser.Run(t, other, chromedp.Evaluate[int](`document.querySelectorAll("#card-ok").length`)); n != 1 {
				t.Errorf("the other browser's link is not its own pending order's pay page: %.300s", shown)
			}
		})
	}
}
