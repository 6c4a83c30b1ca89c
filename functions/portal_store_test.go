package functions_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

var (
	newKeyRE    = regexp.MustCompile(`id="key-value">(sk_(?:test|live)_[A-Za-z0-9_-]+)<`)
	newSecretRE = regexp.MustCompile(`id="secret-value">(whsec_[^<]+)<`)
	keyRowRE    = regexp.MustCompile(`<tr id="key-([0-9a-f]+)"><td>ci server</td>`)
)

// fulfil asks the licensing API for one key of sku with key: the status.
func (s *portalSite) fulfil(t *testing.T, key, ref, sku string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+fulfilURL, strings.NewReader(fulfilBody(ref, sku, 1, 2999)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// A store's pages through the API Gateway path: a developer makes a test
// key (shown once), the API takes it, revokes it (with a confirmation)
// and the API refuses it at once; support gets the 403 page.
func TestPortalAPIKeys(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	s := newPortalSite(t, b, ddbtest.StackOptions{})
	dev := s.signedInMember(t, "my-store", "dev@my-store.test", portal.RoleDeveloper)
	if p := dev.get("/portal/stores/my-store/apikeys/"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="create-key"`) {
		t.Fatalf("API keys page: %d\n%s", p.Status, p.Body)
	}
	p := dev.post("/portal/stores/my-store/apikeys/", url.Values{"action": {"create"}, "name": {"ci server"}, "mode": {"test"}})
	m := newKeyRE.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %q\n%s", p.Status, p.Header.Get("Cache-Control"), p.Body)
	}
	key := m[1]
	if got := s.fulfil(t, key, "portal-key-1", "WIN-11-PRO"); got != http.StatusCreated {
		t.Fatalf("fulfil with the new key: %d", got)
	}
	// Shown once: the list has its prefix, never the key.
	list := dev.get("/portal/stores/my-store/apikeys/")
	row := keyRowRE.FindStringSubmatch(list.Body)
	if row == nil || strings.Contains(list.Body, key) || !strings.Contains(list.Body, key[:len("sk_test_")+4]+"…") {
		t.Fatalf("list after creation:\n%s", list.Body)
	}
	id := row[1]
	if p := dev.post("/portal/stores/my-store/apikeys/", url.Values{"action": {"revoke"}, "id": {id}}); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="confirm-revoke"`) {
		t.Fatalf("revoke asks to confirm: %d\n%s", p.Status, p.Body)
	}
	if got := s.fulfil(t, key, "portal-key-2", "WIN-11-PRO"); got != http.StatusCreated {
		t.Fatalf("before the confirmation the key still works: %d", got)
	}
	if p := dev.post("/portal/stores/my-store/apikeys/", url.Values{"action": {"revoke"}, "id": {id}, "confirm": {"yes"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d\n%s", p.Status, p.Body)
	}
	if got := s.fulfil(t, key, "portal-key-3", "WIN-11-PRO"); got != http.StatusUnauthorized {
		t.Fatalf("fulfil with the revoked key: %d, want 401", got)
	}
	// Another store's key id, or none: 404.
	if p := dev.post("/portal/stores/my-store/apikeys/", url.Values{"action": {"revoke"}, "id": {"000000000000"}, "confirm": {"yes"}}); p.Status != http.StatusNotFound {
		t.Fatalf("unknown key id: %d", p.Status)
	}
	// A name is required; a bad mode refused.
	if p := dev.post("/portal/stores/my-store/apikeys/", url.Values{"action": {"create"}, "name": {""}, "mode": {"test"}}); p.Status != http.StatusBadRequest {
		t.Fatalf("no name: %d", p.Status)
	}
	support := s.signedInMember(t, "my-store", "support@my-store.test", portal.RoleSupport)
	if p := support.get("/portal/stores/my-store/apikeys/"); p.Status != http.StatusForbidden {
		t.Fatalf("support opens API keys: %d, want 403", p.Status)
	}
	if p := support.get("/portal/stores/my-store/settings/"); p.Status != http.StatusOK || strings.Contains(p.Body, `id="rotate"`) {
		t.Fatalf("support reads settings, without the buttons: %d", p.Status)
	}
	if p := support.post("/portal/stores/my-store/settings/", url.Values{"action": {"test"}}); p.Status != http.StatusForbidden {
		t.Fatalf("support sends a test event: %d, want 403", p.Status)
	}
}

// Settings: saved (the URL rules checked), a secret generated (shown
// once), a test event signed with it whose answer is shown escaped.
func TestPortalSettingsAndTestEvent(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	s := newPortalSite(t, b, ddbtest.StackOptions{})
	var mu sync.Mutex
	var sig string
	var body []byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sig = r.Header.Get("X-My-Signature")
		body, _ = io.ReadAll(r.Body)
		mu.Unlock()
		_, _ = w.Write([]byte(`<script>alert(1)</script>`))
	}))
	t.Cleanup(recv.Close)
	owner := s.signedInMember(t, "my-store", "owner@my-store.test", portal.RoleOwner)
	owner.get("/portal/stores/my-store/settings/")
	form := url.Values{"action": {"save"}, "name": {"My Store"}, "supportEmail": {"help@my-store.test"}, "webhookUrl": {"ftp://example.com/"},
		"signatureHeader": {"X-My-Signature"}, "pricesIncludeTax": {"true"}, "lowStock": {"3"}}
	if p := owner.post("/portal/stores/my-store/settings/", form); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="error"`) {
		t.Fatalf("an ftp URL: %d\n%s", p.Status, p.Body)
	}
	form.Set("webhookUrl", recv.URL+"/hook")
	if p := owner.post("/portal/stores/my-store/settings/", form); p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", p.Status, p.Body)
	}
	owner.get("/portal/stores/my-store/settings/")
	p := owner.post("/portal/stores/my-store/settings/", url.Values{"action": {"rotate"}, "rotation": {rotationOf(t, owner)}})
	m := newSecretRE.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil {
		t.Fatalf("rotate: %d\n%s", p.Status, p.Body)
	}
	secret := html.UnescapeString(m[1]) // html/template writes '+' as &#43;
	if again := owner.get("/portal/stores/my-store/settings/"); strings.Contains(again.Body, secret) {
		t.Fatal("the secret is shown again")
	}
	p = owner.post("/portal/stores/my-store/settings/", url.Values{"action": {"test"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="test-status">200<`) || strings.Contains(p.Body, "<script>alert(1)") ||
		!strings.Contains(p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("test event: %d\n%s", p.Status, p.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	// The store had the sample file's secret: for 24 h both sign.
	if !strings.HasPrefix(sig, delivery.Sign(secret, body)) {
		t.Fatalf("X-My-Signature %q is not first the new secret's", sig)
	}
}

// rotationOf is the rotation id the settings page last loaded offers.
func rotationOf(t *testing.T, m *member) string {
	t.Helper()
	p := m.get("/portal/stores/my-store/settings/")
	r := regexp.MustCompile(`name="rotation" value="([0-9a-f]+)"`).FindStringSubmatch(p.Body)
	if r == nil {
		t.Fatalf("no rotation id on the settings page:\n%s", p.Body)
	}
	return r[1]
}

// Products and license keys: a product created with a decimal price,
// listed on /market/; keys pasted with a bad line (by number); the level
// rises; an upload over the limit is refused with a message.
func TestPortalProductsAndLicenseKeys(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	s := newPortalSite(t, b, ddbtest.StackOptions{})
	dev := s.signedInMember(t, "my-store", "dev@my-store.test", portal.RoleDeveloper)
	dev.get("/portal/stores/my-store/products/")
	form := url.Values{"sku": {"PORTAL-1"}, "name": {"Portal product"}, "prices": {"GBP 9.99\nJPY 1500"}, "active": {"on"}, "marketplace": {"on"}}
	if p := dev.post("/portal/stores/my-store/products/", form); p.Status != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", p.Status, p.Body)
	}
	if p := dev.post("/portal/stores/my-store/products/", form); p.Status != http.StatusConflict {
		t.Fatalf("create again: %d", p.Status)
	}
	form.Set("sku", "PORTAL-2")
	form.Set("prices", "GBP 9.999")
	if p := dev.post("/portal/stores/my-store/products/", form); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "2 decimal places") {
		t.Fatalf("3 decimals: %d\n%s", p.Status, p.Body)
	}
	if p := dev.get("/portal/stores/my-store/products/PORTAL-1/"); p.Status != http.StatusOK || !strings.Contains(p.Body, "GBP 9.99") {
		t.Fatalf("product page: %d\n%s", p.Status, p.Body)
	}
	if p := fetch(t, browserClient(t), http.MethodGet, s.URL+"/market/", nil); p.Status != http.StatusOK || !strings.Contains(p.Body, "Portal product") {
		t.Fatalf("/market/: %d", p.Status)
	}
	dev.get("/portal/stores/my-store/licenses/")
	p := dev.post("/portal/stores/my-store/licenses/", url.Values{"sku": {"PORTAL-1"}, "keys": {"PK-1\nPK-2\nPK-1\nbad sku!,x\nPK-3"}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `<span id="added">3</span>`) || !strings.Contains(p.Body, `<span id="duplicates">1</span>`) ||
		!strings.Contains(p.Body, "<td>4</td>") || strings.Contains(p.Body, "PK-2") {
		t.Fatalf("upload: %d\n%s", p.Status, p.Body)
	}
	if !regexp.MustCompile(`<tr id="level-PORTAL-1"><td>PORTAL-1</td><td class="low">3 \(low\)</td>`).MatchString(p.Body) {
		t.Fatalf("level after the upload:\n%s", p.Body)
	}
	if got := s.fulfil(t, mustSampleKey(t), "portal-product-1", "PORTAL-1"); got != http.StatusCreated {
		t.Fatalf("a sale of the new product: %d", got)
	}
	big := strings.Repeat("K\n", 10_001)
	if p := dev.post("/portal/stores/my-store/licenses/", url.Values{"sku": {"PORTAL-1"}, "keys": {big}}); p.Status != http.StatusRequestEntityTooLarge || !strings.Contains(p.Body, "10000 at once") {
		t.Fatalf("10,001 lines: %d\n%s", p.Status, p.Body)
	}
	huge := strings.Repeat(fmt.Sprintf("%0255d\n", 1), 5000) // 1.28 MB
	if p := dev.post("/portal/stores/my-store/licenses/", url.Values{"sku": {"PORTAL-1"}, "keys": {huge}}); p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("over 1 MiB: %d", p.Status)
	}
}

// mustSampleKey is the sample stores file's key of my-store.
func mustSampleKey(t *testing.T) string {
	t.Helper()
	return "sk_test_local_only_1"
}

// A live key and a secret rotation ask for a sign-in within 10 minutes;
// a test key does not; after signing in again, both are made.
func TestPortalRecentSignInForLiveKeysAndRotation(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	s := newPortalSite(t, b, ddbtest.StackOptions{})
	owner := s.signedInMember(t, "my-store", "owner@my-store.test", portal.RoleOwner)
	s.clock.Add(int64(11 * time.Minute))
	owner.get("/portal/stores/my-store/apikeys/")
	if p := owner.post("/portal/stores/my-store/apikeys/", url.Values{"action": {"create"}, "name": {"prod"}, "mode": {"live"}}); p.Status != http.StatusForbidden ||
		!strings.Contains(p.Body, `id="reauth"`) || newKeyRE.MatchString(p.Body) {
		t.Fatalf("a live key 11 minutes after sign-in: %d, want the sign-in-again page", p.Status)
	}
	if p := owner.post("/portal/stores/my-store/apikeys/", url.Values{"action": {"create"}, "name": {"ci"}, "mode": {"test"}}); p.Status != http.StatusOK || !newKeyRE.MatchString(p.Body) {
		t.Fatalf("a test key needs no recent sign-in: %d", p.Status)
	}
	rotation := rotationOf(t, owner)
	if p := owner.post("/portal/stores/my-store/settings/", url.Values{"action": {"rotate"}, "rotation": {rotation}}); p.Status != http.StatusForbidden || newSecretRE.MatchString(p.Body) {
		t.Fatalf("a rotation 11 minutes after sign-in: %d", p.Status)
	}
	owner.signIn("owner@my-store.test")
	owner.get("/portal/stores/my-store/apikeys/")
	if p := owner.post("/portal/stores/my-store/apikeys/", url.Values{"action": {"create"}, "name": {"prod"}, "mode": {"live"}}); p.Status != http.StatusOK ||
		!strings.Contains(p.Body, `id="key-value">sk_live_`) {
		t.Fatalf("a live key after signing in again: %d", p.Status)
	}
	rotation = rotationOf(t, owner)
	p := owner.post("/portal/stores/my-store/settings/", url.Values{"action": {"rotate"}, "rotation": {rotation}})
	if p.Status != http.StatusOK || !newSecretRE.MatchString(p.Body) {
		t.Fatalf("a rotation after signing in again: %d", p.Status)
	}
	// The same form posted again (a double click, a retry): the same secret.
	again := owner.post("/portal/stores/my-store/settings/", url.Values{"action": {"rotate"}, "rotation": {rotation}})
	if newSecretRE.FindStringSubmatch(again.Body)[1] != newSecretRE.FindStringSubmatch(p.Body)[1] {
		t.Fatal("a retried rotation made another secret")
	}
}
