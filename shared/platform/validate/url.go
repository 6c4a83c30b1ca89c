package validate

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// MaxURL bounds a URL a client gives us to send a browser to.
const MaxURL = 2048

// ErrNotHTTPURL: not an absolute http or https URL a browser can be sent to.
var ErrNotHTTPURL = errors.New("must be an absolute http or https URL (at most 2048 bytes)")

// HTTPURL parses s as an absolute http(s) URL that a page may send a
// browser to and returns it re-serialized: what is stored, put in a header
// or a page is this, never what was sent. The host must be a DNS name
// (ASCII labels of letters, digits and hyphens; a domain outside ASCII in
// its xn-- form) or an IP literal, with an optional numeric port; no user
// information. Anything else — "https://evil.example;script-src/", a space
// or a quote in the host — is refused, so the URL's origin is safe to
// place in a Content-Security-Policy.
func HTTPURL(s string) (string, error) {
	if s == "" || len(s) > MaxURL {
		return "", ErrNotHTTPURL
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Opaque != "" || !validHost(u.Host) {
		return "", ErrNotHTTPURL
	}
	out := u.String()
	if len(out) > MaxURL {
		return "", ErrNotHTTPURL
	}
	return out, nil
}

// Origin is scheme://host[:port] of a URL HTTPURL accepts, lower-cased;
// "" for any other.
func Origin(s string) string {
	if _, err := HTTPURL(s); err != nil {
		return ""
	}
	u, _ := url.Parse(s)
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

// validHost: host[:port] as HTTPURL allows it.
func validHost(hostport string) bool {
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host, port = hostport[:i], hostport[i+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || !isDigits(port) {
			return false
		}
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		ip := net.ParseIP(host[1 : len(host)-1])
		return ip != nil && ip.To4() == nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.To4() != nil
	}
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isLabelByte(label[i]) {
				return false
			}
		}
	}
	return true
}

// isLabelByte: a letter, digit or hyphen, what a DNS label (LDH) holds.
func isLabelByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}
