package lambdarun_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

// A header reaches the handler as the client sent it: the proxy library's
// own conversion would split "t=…,v1=…,v1=…" on its commas and Header.Get
// would return "t=…" alone (every Stripe webhook refused in AWS).
func TestHTTPEntryKeepsHeaders(t *testing.T) {
	var seen *http.Request
	entry := lambdarun.HTTPEntry("f", slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r
		w.WriteHeader(http.StatusNoContent)
	}))
	ev := events.APIGatewayV2HTTPRequest{
		RawPath: "/api/v1/stores/my-store/checkout/session/",
		Headers: map[string]string{
			"stripe-signature": "t=1700000000,v1=aaaa,v1=bbbb",
			"idempotent-key":   "order-1,retry-2",
			"accept-language":  "de-DE,de;q=0.9,en;q=0.8",
			"content-type":     "application/json",
		},
		Cookies:        []string{"cart=abc", "__Host-csrf=xyz"},
		PathParameters: map[string]string{"store_slug": "my-store", lambdarun.TrailingSlashParam: ""},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "abc123.execute-api.eu-west-1.amazonaws.com",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", SourceIP: "203.0.113.9"},
		},
	}
	res, err := entry(context.Background(), ev)
	if err != nil || res.StatusCode != http.StatusNoContent || seen == nil {
		t.Fatalf("answer %+v, error %v", res, err)
	}
	for name, want := range map[string]string{
		"Stripe-Signature": "t=1700000000,v1=aaaa,v1=bbbb",
		"Idempotent-Key":   "order-1,retry-2",
		"Accept-Language":  "de-DE,de;q=0.9,en;q=0.8",
	} {
		if got := seen.Header.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %q, want the one value %q", name, got, want)
		}
	}
	if c, err := seen.Cookie("__Host-csrf"); err != nil || c.Value != "xyz" {
		t.Errorf("cookie __Host-csrf: %v %v", c, err)
	}
	if seen.PathValue("store_slug") != "my-store" || seen.Host != ev.RequestContext.DomainName || seen.RemoteAddr != "203.0.113.9" {
		t.Errorf("path value %q, host %q, remote %q", seen.PathValue("store_slug"), seen.Host, seen.RemoteAddr)
	}

	// Below a trailing-slash route's page: API Gateway's own 404.
	seen = nil
	ev.PathParameters[lambdarun.TrailingSlashParam] = "more"
	res, err = entry(context.Background(), ev)
	if err != nil || res.StatusCode != http.StatusNotFound || res.Body != `{"message":"Not Found"}` || seen != nil {
		t.Errorf("below the page: %+v %v (handler called: %v)", res, err, seen != nil)
	}
}
