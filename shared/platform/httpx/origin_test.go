package httpx_test

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
)

func TestRequestOrigin(t *testing.T) {
	tests := []struct {
		name, url, host string
		tls             bool
		forwarded       string
		want            string
	}{
		{"API Gateway's domain", "/x", "abc123.execute-api.eu-west-1.amazonaws.com", false, "", "https://abc123.execute-api.eu-west-1.amazonaws.com"},
		{"custom domain with TLS", "/x", "pay.example.com", true, "", "https://pay.example.com"},
		{"forwarded https to loopback", "/x", "127.0.0.1:3000", false, "https", "https://127.0.0.1:3000"},
		{"make run", "/x", "127.0.0.1:3000", false, "", "http://127.0.0.1:3000"},
		{"localhost", "/x", "localhost:3000", false, "", "http://localhost:3000"},
		{"IPv6 loopback", "/x", "[::1]:3000", false, "", "http://[::1]:3000"},
		{"not a host", "/x", "evil.example/path", false, "", ""},
		{"user info", "/x", "user@evil.example", false, "", ""},
		{"empty", "/x", "", false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.url, nil)
			r.Host = tt.host
			if !tt.tls {
				r.TLS = nil
			} else {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.forwarded != "" {
				r.Header.Set("X-Forwarded-Proto", tt.forwarded)
			}
			if got := httpx.RequestOrigin(r); got != tt.want {
				t.Errorf("RequestOrigin = %q, want %q", got, tt.want)
			}
		})
	}
}
