package httpx

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// RequestOrigin is the origin (scheme://host) request r came to: the host
// is r.Host — in AWS API Gateway's requestContext.domainName (the API's
// execute-api domain or a custom domain), which shared/platform/lambdarun puts
// there — and the scheme https, but for plain HTTP to a loopback host
// (make run). "" when r.Host is no host[:port].
func RequestOrigin(r *http.Request) string {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if u, err := url.Parse("http://" + host); err != nil || host == "" || u.Host != host || u.User != nil || u.Path != "" || u.RawQuery != "" {
		return ""
	}
	if Secure(r) {
		return "https://" + host
	}
	return "http://" + host
}

// Secure reports whether r came over HTTPS as far as its client knows:
// always but for plain HTTP to a loopback address (make run). Pages set
// Secure cookies by it; RequestOrigin's scheme is it.
func Secure(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip == nil || !ip.IsLoopback()
}
