package delivery_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

// RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?").
func TestSignKnownAnswer(t *testing.T) {
	got := delivery.Sign("Jefe", []byte("what do ya want for nothing?"))
	const want = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		prod bool
		ok   bool
	}{
		{"https://example.com/hook", true, true},
		{"https://example.com/hook", false, true},
		{"http://example.com/hook", false, false},
		{"http://example.com/hook", true, false},
		{"http://127.0.0.1:8080/hook", false, true},
		{"http://localhost:8080/hook", false, true},
		{"http://[::1]:8080/hook", false, true},
		{"http://127.0.0.1:8080/hook", true, false},
		{"https://127.0.0.1/hook", true, false},
		{"https://localhost/hook", true, false},
		{"https://10.0.0.5/hook", true, false},
		{"https://192.168.1.1/hook", true, false},
		{"https://172.16.0.1/hook", true, false},
		{"https://169.254.169.254/latest/meta-data", true, false},
		{"https://[fe80::1]/hook", true, false},
		{"https://[fd00::1]/hook", true, false},
		{"https://100.64.0.1/hook", true, false},
		{"https://[::ffff:10.0.0.1]/hook", true, false},
		{"https://0.0.0.0/hook", true, false},
		{"https://93.184.216.34/hook", true, true},
		{"https://10.0.0.5/hook", false, true},
		{"ftp://example.com/x", false, false},
		{"/relative", false, false},
		{"https://user:pw@example.com/", false, false},
		{"", false, false},
	} {
		err := delivery.CheckURL(tc.url, tc.prod)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, delivery.ErrURL)) {
			t.Errorf("CheckURL(%q, prod=%v) = %v, want ok=%v", tc.url, tc.prod, err, tc.ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	for _, jitter := range []float64{0, 0.999} {
		p := outbox.DefaultPolicy
		p.Jitter = func() float64 { return jitter }
		for attempts, full := range map[int64]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 50: time.Hour} {
			got := p.Next(attempts)
			if got < full/2 || got > full {
				t.Errorf("jitter %v, attempt %d: %s, want in [%s, %s]", jitter, attempts, got, full/2, full)
			}
		}
	}
}

// The prod client refuses to connect to a non-public address, whatever
// name led there (a name that resolves or rebinds to one included).
func TestProdClientRefusesInternalAddresses(t *testing.T) {
	var reached atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer srv.Close()
	u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for _, target := range []string{srv.URL, u} {
		resp, err := delivery.Client(true).Post(target, "application/json", strings.NewReader(`{}`))
		if err == nil {
			resp.Body.Close()
		}
		if !errors.Is(err, delivery.ErrURL) || reached.Load() != 0 {
			t.Errorf("POST %s: %v, want ErrURL before connecting", target, err)
		}
	}
	resp, err := delivery.Client(false).Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if reached.Load() != 1 {
		t.Error("the non-prod client did not reach the loopback server")
	}
}
