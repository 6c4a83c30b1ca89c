// Package browser drives a headless Chromium (the Debian package chromium)
// through github.com/chromedp/chromedp for Tollgate's browser tests. A
// machine without Chromium skips those tests, saying so; with CI=true it
// fails them instead.
package browser

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"

	"github.com/chromedp/chromedp"
)

// EnvChromium names the browser binary when it is not on PATH as chromium.
const EnvChromium = "CHROMIUM"

// EnvArtifacts is the directory screenshots are written to (default
// .build/artifacts/browser under the repository).
const EnvArtifacts = "BROWSER_ARTIFACTS_DIR"

// Find returns the Chromium binary: $CHROMIUM, else chromium or
// chromium-browser on PATH.
func Find() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium is not installed (apt-get install -y chromium)")
}

// Require returns the Chromium binary, or skips the test (fails it under
// CI=true) when there is none.
func Require(t testing.TB) string {
	t.Helper()
	p, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the browser tests need Chromium when CI=true: %v", err)
		}
		t.Skipf("SKIPPING the browser test: %v", err)
	}
	return p
}

// Start starts a headless Chromium for the test (its own profile, so its
// own cookies) and returns a chromedp context on its first tab; the
// browser stops when the test ends.
func Start(t testing.TB) context.Context {
	t.Helper()
	bin := Require(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // tests run as root in containers
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.WindowSize(1000, 1200),
		// On a loaded 2-core machine Chromium can take longer than
		// chromedp's default 20 s to print its DevTools address.
		chromedp.WSURLReadTimeout(startTimeout),
	)
	// A start that fails under load is tried once more with a fresh
	// profile; a second failure fails the test.
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, chromedp.UserDataDir(t.TempDir()))...)
		ctx, cancel := chromedp.NewContext(alloc)
		// The first Run starts the browser and binds it to ctx (no timeout).
		if err = chromedp.Do(ctx); err == nil {
			t.Cleanup(func() { cancel(); cancelAlloc() })
			return ctx
		}
		cancel()
		cancelAlloc()
		t.Logf("start chromium (attempt %d): %v", attempt+1, err)
	}
	t.Fatalf("start chromium: %v", err)
	return nil
}

// startTimeout bounds how long Chromium may take to start.
const startTimeout = 90 * time.Second

// NewBrowserContext returns a chromedp context on a tab of a new browser
// context of ctx's Chromium: incognito-like, with its own cookie jar and
// storage, as another person's browser would have. It closes when the
// test ends.
func NewBrowserContext(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	bctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("new browser context: %v", err)
	}
	return bctx
}

// stepTimeout bounds one Do or Run: a guard against a page that never
// shows what a step waits for, generous because a loaded CI machine runs
// other test binaries beside the browser.
const stepTimeout = 90 * time.Second

// Do runs steps with a timeout, failing the test on error.
func Do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Submit clicks the button at css, which submits a form, and waits until
// the new document has loaded: a query started while the old document is
// being replaced can wait on the old one for ever. A click that starts no
// navigation within clickWait (seen on a loaded machine: the synthetic
// click lands while the page is still being laid out) is logged with the
// page's state and the button is pressed once more from the keyboard.
func Submit(t testing.TB, ctx context.Context, css string) {
	t.Helper()
	if err := submitWith(ctx, clickWait, chromedp.Click(chromedp.CSS(css))); err == nil {
		return
	}
	state, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](pageStateJS))
	t.Logf("no navigation %s after clicking %s; page state %q; pressing Enter on it", clickWait, css, state)
	if err := submitWith(ctx, stepTimeout, chromedp.Focus(chromedp.CSS(css)), chromedp.KeyEvent("\r")); err != nil {
		t.Fatalf("browser: submit %s: %v", css, err)
	}
}

func submitWith(ctx context.Context, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := chromedp.RunResponse(tctx, steps...)
	return err
}

// clickWait bounds how long Submit waits for a click's navigation.
const clickWait = 20 * time.Second

// pageStateJS describes why a form may not have been submitted: the
// location, the invalid fields and the focused element.
const pageStateJS = `[location.href, "focus=" + (document.activeElement ? document.activeElement.id : ""),
  ...[...document.querySelectorAll(":invalid")].map(e => "invalid " + e.id)]`

// Run runs one action returning a value, failing the test on error.
func Run[T any](t testing.TB, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// Text is the visible text of the first element matching the CSS selector.
func Text(t testing.TB, ctx context.Context, css string) string {
	t.Helper()
	return strings.TrimSpace(Run(t, ctx, chromedp.Text(chromedp.CSS(css))))
}

// ArtifactsDir is where the test's screenshots go.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvArtifacts)
	if dir == "" {
		root, err := samtemplate.Root()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".build", "artifacts", "browser")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves the whole page as <test>-<name>.png among the artifacts.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png := Run(t, ctx, chromedp.FullScreenshot(100))
	file := filepath.Join(ArtifactsDir(t), unsafeName.ReplaceAllString(t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", file)
}
