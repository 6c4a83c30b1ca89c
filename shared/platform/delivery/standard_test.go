package delivery_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/standardwebhooks"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
)

// Known answers of the webhook-signature header. The first is the
// Standard Webhooks specification's own example; the others were computed
// with Python's hmac and base64 (key: the whsec_ secret's base64 decoded,
// or a plain secret's own bytes).
func TestStandardSignatureVectors(t *testing.T) {
	for _, c := range []struct {
		name     string
		secrets  []string
		id       string
		ts       int64
		body     string
		want     string
		standard string // StandardSecret(secrets[0])
	}{
		{"spec example", []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, `{"test": 2432232314}`,
			"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		{"plain secret", []string{"plain-store-secret"}, "store:s1:order:ORD-1:fulfilled", 1764504000, `{"event":"order.fulfilled","order_id":"ORD-1"}`,
			"v1,WgqY3lsKrAnCczvzpPz8YFkLpV7ORa9cBD3FBTxe2fE=", "whsec_cGxhaW4tc3RvcmUtc2VjcmV0"},
		{"whsec_ prefix, not base64: plain", []string{"whsec_job"}, "ev-1", 1764504000, `{}`,
			"v1,m4yolg/LFuzIIMGbzyIo2nMQDxTkxqHBz2cFJ7ZlwjA=", "whsec_d2hzZWNfam9i"},
		{"secret roll: new, then old", []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "old-secret"}, "ev-roll", 1764504000, `{"a":1}`,
			"v1,Bx6+c/Uwwqsrl9mpOJBabC3MNVfdxPd0jCvVhpdYCfI= v1,VPib622kEPrn0n4dOHQ/rid1SxGAxqwf8n7WfergPs4=", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := delivery.StandardSignature(c.secrets, c.id, time.Unix(c.ts, 0), []byte(c.body)); got != c.want {
				t.Errorf("signature %q, want %q", got, c.want)
			}
			if got := delivery.StandardSecret(c.secrets[0]); got != c.standard {
				t.Errorf("StandardSecret %q, want %q", got, c.standard)
			}
		})
	}
}

// delivered is one POST a capture received.
type delivered struct {
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// capture records every delivery (2xx).
type capture struct {
	mu  sync.Mutex
	got []delivered
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h := map[string]string{}
	for k := range r.Header {
		h[strings.ToLower(k)] = r.Header.Get(k)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, delivered{Headers: h, Body: string(body)})
}

func (c *capture) all() []delivered {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]delivered(nil), c.got...)
}

// deliverReal enqueues n events and lets a dispatcher (clock now) deliver
// them, signed with target's secrets, to a capture: the deliveries.
func deliverReal(t *testing.T, n int, target delivery.Target, now func() time.Time) []delivered {
	t.Helper()
	f := setup(t, ddbtest.Backend{Name: "minidyn"}, 0)
	f.clock.t = now()
	var c capture
	srv := httptest.NewServer(&c)
	t.Cleanup(srv.Close)
	target.URL = srv.URL + "/hook"
	d := f.dispatcher(srv.URL)
	d.Now = now
	d.Resolver = delivery.ResolverFunc(func(context.Context, string) (delivery.Target, error) { return target, nil })
	f.enqueue(t, n)
	if st, err := d.Run(context.Background(), 50); err != nil || st.Delivered != n {
		t.Fatalf("run: %+v %v", st, err)
	}
	return c.all()
}

// Every delivery carries the Standard Webhooks headers: the event id, the
// unix time, and a signature of id.timestamp.body under the receiver's
// whsec_ key, beside the unchanged body-only X-Tollgate-Signature.
func TestDeliverySignedStandardWebhooks(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	got := deliverReal(t, 2, delivery.Target{Secret: "plain-store-secret"}, func() time.Time { return at })
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(delivery.StandardSecret("plain-store-secret"), "whsec_"))
	for _, d := range got {
		id, ts := d.Headers["webhook-id"], d.Headers["webhook-timestamp"]
		if id == "" || id != d.Headers["x-tollgate-event-id"] || ts != strconv.FormatInt(at.Unix(), 10) {
			t.Fatalf("webhook-id %q, webhook-timestamp %q", id, ts)
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + ts + "." + d.Body))
		if want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil)); d.Headers["webhook-signature"] != want {
			t.Errorf("webhook-signature %q, want %q", d.Headers["webhook-signature"], want)
		}
		if d.Headers["x-tollgate-signature"] != delivery.Sign("plain-store-secret", []byte(d.Body)) {
			t.Errorf("X-Tollgate-Signature changed: %q", d.Headers["x-tollgate-signature"])
		}
	}
}

// verifyScript runs standardwebhooks' Webhook.verify over cases read from
// stdin and prints, per case, "ok" or the error.
const verifyScript = `
const { Webhook } = require("standardwebhooks");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((c) => {
    try {
      new Webhook(c.secret).verify(c.body, c.headers);
      return "ok";
    } catch (e) {
      return "refused: " + e.message;
    }
  });
  console.log(JSON.stringify(out));
});
`

type verifyCase struct {
	Name    string            `json:"name"`
	Secret  string            `json:"secret"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
	want    bool
}

// The reference library (npm standardwebhooks, pinned) verifies real
// deliveries, with the whsec_ form of a plain secret, of a base64 one, and
// either secret of a roll; it refuses a delivery whose webhook-timestamp was
// changed (a replay re-dated), one whose id was changed, and a stale one.
func TestStandardWebhooksLibraryVerifies(t *testing.T) {
	node, dir := standardwebhooks.Node(t)
	now := time.Now
	var cases []verifyCase
	add := func(name, secret string, d delivered, want bool) {
		cases = append(cases, verifyCase{Name: name, Secret: secret, Headers: d.Headers, Body: d.Body, want: want})
	}
	const b64 = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	for _, d := range deliverReal(t, 2, delivery.Target{Secret: "plain-store-secret"}, now) {
		add("plain secret", delivery.StandardSecret("plain-store-secret"), d, true)
		redated := clone(d)
		ts, _ := strconv.ParseInt(d.Headers["webhook-timestamp"], 10, 64)
		redated.Headers["webhook-timestamp"] = strconv.FormatInt(ts+60, 10)
		add("re-dated replay", delivery.StandardSecret("plain-store-secret"), redated, false)
		other := clone(d)
		other.Headers["webhook-id"] = d.Headers["webhook-id"] + "-2"
		add("other id", delivery.StandardSecret("plain-store-secret"), other, false)
	}
	for _, d := range deliverReal(t, 1, delivery.Target{Secret: b64, Previous: []string{"old-secret"}}, now) {
		add("base64 secret, new of a roll", b64, d, true)
		add("old of a roll", delivery.StandardSecret("old-secret"), d, true)
		add("wrong secret", delivery.StandardSecret("another"), d, false)
	}
	// A store's rotation: the new plain secret and the previous one, two
	// signatures in each header.
	for _, d := range deliverReal(t, 1, delivery.Target{Secret: "rotated-new", Previous: []string{"rotated-old"}, Header: "X-Shop-Signature"}, now) {
		if sigs := strings.Split(d.Headers["webhook-signature"], " "); len(sigs) != 2 {
			t.Fatalf("webhook-signature %q: want two signatures", d.Headers["webhook-signature"])
		}
		want := delivery.Sign("rotated-new", []byte(d.Body)) + "," + delivery.Sign("rotated-old", []byte(d.Body))
		if d.Headers["x-shop-signature"] != want {
			t.Fatalf("X-Shop-Signature %q, want %q", d.Headers["x-shop-signature"], want)
		}
		add("two signatures, the new secret", delivery.StandardSecret("rotated-new"), d, true)
		add("two signatures, the previous secret", delivery.StandardSecret("rotated-old"), d, true)
		add("two signatures, neither secret", delivery.StandardSecret("rotated-other"), d, false)
	}
	for _, d := range deliverReal(t, 1, delivery.Target{Secret: b64}, func() time.Time { return time.Now().Add(-10 * time.Minute) }) {
		add("stale (10 minutes old)", b64, d, false)
	}
	in, _ := json.Marshal(cases)
	cmd := exec.Command(node, "-e", verifyScript)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var results []string
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(cases) {
		t.Fatalf("node answered %q: %v", out, err)
	}
	for i, c := range cases {
		t.Logf("%s: %s", c.Name, results[i])
		if (results[i] == "ok") != c.want {
			t.Errorf("%s: standardwebhooks says %q, want verified=%v", c.Name, results[i], c.want)
		}
	}
}

func clone(d delivered) delivered {
	h := map[string]string{}
	for k, v := range d.Headers {
		h[k] = v
	}
	return delivered{Headers: h, Body: d.Body}
}

// snippets are the fenced code blocks of lang under the heading "Verifying
// a delivery" of docs/webhooks.md.
func snippets(t *testing.T, lang string) []string {
	t.Helper()
	root, err := samtemplate.Root()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "webhooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Verifying a delivery\n")
	if !ok {
		t.Fatal(`docs/webhooks.md has no "## Verifying a delivery" section`)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	var out []string
	for {
		_, rest, ok := strings.Cut(section, "\n```"+lang+"\n")
		if !ok {
			return out
		}
		code, after, ok := strings.Cut(rest, "\n```\n")
		if !ok {
			t.Fatalf("an unclosed %s block in docs/webhooks.md", lang)
		}
		out = append(out, code+"\n")
		section = after
	}
}

// The receiver snippets of docs/webhooks.md (Python with the standard
// library, Node with standardwebhooks) accept a real delivery and refuse
// it re-dated and stale. Each reads {"secret", "headers", "body"} as JSON
// on stdin and exits 0 only for a verified delivery.
func TestDocsSnippetsVerify(t *testing.T) {
	py := snippets(t, "python")
	js := snippets(t, "js")
	if len(py) != 1 || len(js) != 1 {
		t.Fatalf("docs/webhooks.md: %d python and %d js blocks under Verifying a delivery, want one each", len(py), len(js))
	}
	node, dir := standardwebhooks.Node(t)
	python, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is required when CI=true")
		}
		t.Skip("SKIPPING: python3 not installed")
	}
	tmp := t.TempDir()
	pyFile, jsFile := filepath.Join(tmp, "verify.py"), filepath.Join(tmp, "verify.js")
	if err := os.WriteFile(pyFile, []byte(py[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jsFile, []byte(js[0]), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := "plain-store-secret"
	fresh := deliverReal(t, 1, delivery.Target{Secret: secret}, time.Now)[0]
	redated := clone(fresh)
	ts, _ := strconv.ParseInt(fresh.Headers["webhook-timestamp"], 10, 64)
	redated.Headers["webhook-timestamp"] = strconv.FormatInt(ts+60, 10)
	stale := deliverReal(t, 1, delivery.Target{Secret: secret}, func() time.Time { return time.Now().Add(-10 * time.Minute) })[0]
	for _, c := range []struct {
		name string
		d    delivered
		want bool
	}{{"fresh", fresh, true}, {"re-dated", redated, false}, {"stale", stale, false}} {
		in, _ := json.Marshal(map[string]any{"secret": delivery.StandardSecret(secret), "headers": c.d.Headers, "body": c.d.Body})
		for _, run := range []*exec.Cmd{exec.Command(python, pyFile), exec.Command(node, jsFile)} {
			run.Stdin = strings.NewReader(string(in))
			run.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
			out, err := run.CombinedOutput()
			if (err == nil) != c.want {
				t.Errorf("%s, %s: verified=%v, want %v: %s", filepath.Base(run.Args[len(run.Args)-1]), c.name, err == nil, c.want, out)
			}
		}
	}
}
