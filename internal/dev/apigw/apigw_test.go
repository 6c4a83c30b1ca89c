package apigw_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tollgate-dev/tollgate/internal/dev/apigw"
)

// AWS's own example of route selection for HTTP APIs (the developer
// guide's "Routing API requests"), plus the trailing-slash routes Tollgate
// uses.
var example = []apigw.Route{
	{"GET", "/pets/dog/1", "Dog1"},
	{"GET", "/pets/dog/{id}", "DogID"},
	{"GET", "/pets/{proxy+}", "PetsProxy"},
	{"ANY", "/{proxy+}", "AnyProxy"},
	{"GET", "/market/{slash+}", "Market"},
	{"POST", "/api/v1/stores/{store_slug}/checkout/session", "Session"},
	{"POST", "/api/v1/stores/{store_slug}/checkout/session/{slash+}", "Session"},
}

func gateway(t *testing.T, routes []apigw.Route, invoke apigw.Invoke) *apigw.Gateway {
	t.Helper()
	fns := map[string]apigw.Function{}
	for _, r := range routes {
		fns[r.Function] = apigw.Function{Invoke: invoke, Timeout: 10 * time.Second}
	}
	g, err := apigw.New(routes, fns, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSelect(t *testing.T) {
	none := func(context.Context, []byte) ([]byte, error) { return nil, nil }
	g := gateway(t, example, none)
	withDefault := gateway(t, append(example[:4:4], apigw.Route{Path: apigw.DefaultRoute, Function: "Default"}), none)
	for _, tc := range []struct {
		gw           *apigw.Gateway
		method, path string
		route        string
		params       map[string]string
	}{
		{g, "GET", "/pets/dog/1", "GET /pets/dog/1", nil},
		{g, "GET", "/pets/dog/2", "GET /pets/dog/{id}", map[string]string{"id": "2"}},
		{g, "GET", "/pets/cat/1", "GET /pets/{proxy+}", map[string]string{"proxy": "cat/1"}},
		{g, "POST", "/pets/dog/1", "ANY /{proxy+}", map[string]string{"proxy": "pets/dog/1"}},
		{g, "GET", "/test", "ANY /{proxy+}", map[string]string{"proxy": "test"}},
		{g, "GET", "/market/", "GET /market/{slash+}", map[string]string{"slash": ""}},
		{g, "POST", "/api/v1/stores/my-store/checkout/session/", "POST /api/v1/stores/{store_slug}/checkout/session/{slash+}", map[string]string{"store_slug": "my-store", "slash": ""}},
		{g, "POST", "/api/v1/stores/my-store/checkout/session", "POST /api/v1/stores/{store_slug}/checkout/session", map[string]string{"store_slug": "my-store"}},
		// Path variables arrive decoded.
		{g, "GET", "/pets/dog/a%20b", "GET /pets/dog/{id}", map[string]string{"id": "a b"}},
		{withDefault, "GET", "/", "$default", nil},
		{withDefault, "DELETE", "/pets/dog/1", "ANY /{proxy+}", map[string]string{"proxy": "pets/dog/1"}},
	} {
		route, params, ok := tc.gw.Select(tc.method, tc.path)
		if !ok || route.Key() != tc.route || !equal(params, tc.params) {
			t.Errorf("%s %s: %q %v (%v), want %q %v", tc.method, tc.path, route.Key(), params, ok, tc.route, tc.params)
		}
	}
	onlyExact := gateway(t, []apigw.Route{{"GET", "/market/{slash+}", "Market"}, {"POST", "/a/{b}", "B"}}, none)
	for _, miss := range [][2]string{{"GET", "/market"}, {"POST", "/market/"}, {"POST", "/a/"}, {"POST", "/a/b/c"}, {"GET", "/a/b"}, {"GET", "/"}} {
		if route, _, ok := onlyExact.Select(miss[0], miss[1]); ok {
			t.Errorf("%s %s matched %s; want no route", miss[0], miss[1], route.Key())
		}
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Routes API Gateway refuses or SAM drops fail at start, each named.
func TestCompileRefuses(t *testing.T) {
	for _, tc := range []struct {
		routes []apigw.Route
		want   string
	}{
		{[]apigw.Route{{"GET", "/market/", "M"}}, "ending in /"},
		{[]apigw.Route{{"GET", "/a/{rest+}/b", "M"}}, "must end the path"},
		{[]apigw.Route{{"GET", "/a/{x}", "A"}, {"GET", "/a/{y}", "B"}}, "collide"},
		{[]apigw.Route{{"GET", "/a//b", "A"}}, "empty path segment"},
		{[]apigw.Route{{"GET", "/a/x{y}", "A"}}, "mixes text"},
		{[]apigw.Route{{"FETCH", "/a", "A"}}, "not an HTTP API method"},
		{[]apigw.Route{{"GET", "/a/{x}/{x}", "A"}}, "repeated"},
	} {
		_, err := apigw.Compile(tc.routes)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.routes, err, tc.want)
		}
	}
	if _, err := apigw.Compile(example); err != nil {
		t.Errorf("AWS's example refused: %v", err)
	}
}

// The event is the one API Gateway builds, and the function's answer goes
// back as API Gateway sends it.
func TestRoundTrip(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	g := gateway(t, example, func(ctx context.Context, payload []byte) ([]byte, error) {
		if err := json.Unmarshal(payload, &got); err != nil {
			return nil, err
		}
		return json.Marshal(events.APIGatewayV2HTTPResponse{
			StatusCode: 201,
			Headers:    map[string]string{"Content-Type": "text/plain", "Vary": "Accept, Cookie"},
			Cookies:    []string{"a=1; Path=/", "b=2; Path=/"},
			Body:       "aGVsbG8=", IsBase64Encoded: true,
		})
	})
	srv := httptest.NewServer(g)
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/stores/my%2Dstore/checkout/session/?x=1&x=2&q=a%20b", strings.NewReader("k=v"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Add("Stripe-Signature", "t=1,v1=aa,v1=bb")
	req.Header.Add("Accept-Language", "de")
	req.Header.Add("Accept-Language", "en;q=0.5")
	req.Header.Add("Cookie", "s=1; t=2")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 || string(body) != "hello" || res.Header.Get("Vary") != "Accept, Cookie" || len(res.Cookies()) != 2 {
		t.Errorf("answer %d %q %v", res.StatusCode, body, res.Header)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", got.Version, "2.0"},
		{"routeKey", got.RouteKey, "POST /api/v1/stores/{store_slug}/checkout/session/{slash+}"},
		{"rawPath", got.RawPath, "/api/v1/stores/my%2Dstore/checkout/session/"},
		{"rawQueryString", got.RawQueryString, "x=1&x=2&q=a%20b"},
		{"query", got.QueryStringParameters["x"] + "|" + got.QueryStringParameters["q"], "1,2|a b"},
		{"pathParameters", got.PathParameters["store_slug"], "my-store"},
		{"stripe-signature", got.Headers["stripe-signature"], "t=1,v1=aa,v1=bb"},
		{"accept-language", got.Headers["accept-language"], "de,en;q=0.5"},
		{"cookies", strings.Join(got.Cookies, "|"), "s=1|t=2"},
		{"cookie header", got.Headers["cookie"], ""},
		{"form body base64", got.IsBase64Encoded, true},
		{"body", got.Body, "az12"},
		{"sourceIp", got.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"method", got.RequestContext.HTTP.Method, "POST"},
		{"stage", got.RequestContext.Stage, "$default"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
}

// What API Gateway answers by itself: no route, a function error, an
// answer it cannot use, a body over its limit.
func TestGatewayAnswers(t *testing.T) {
	fail := func(context.Context, []byte) ([]byte, error) { return nil, io.ErrUnexpectedEOF }
	junk := func(context.Context, []byte) ([]byte, error) { return []byte(`{"statusCode": 0}`), nil }
	bare := func(context.Context, []byte) ([]byte, error) { return []byte(`{"ok": true}`), nil }
	for _, tc := range []struct {
		invoke       apigw.Invoke
		method, path string
		body         string
		status       int
		want         string
	}{
		{bare, "GET", "/nowhere", "", 404, `{"message":"Not Found"}`},
		{fail, "GET", "/market/", "", 500, `{"message":"Internal Server Error"}`},
		{junk, "GET", "/market/", "", 500, `{"message":"Internal Server Error"}`},
		{bare, "GET", "/market/", "", 200, `{"ok": true}`},
		{bare, "POST", "/api/v1/stores/s/checkout/session", strings.Repeat("x", apigw.MaxPayload+1), 413, `{"message":"Request Entity Too Large"}`},
	} {
		g := gateway(t, example[4:], tc.invoke) // no catch-all
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		if w.Code != tc.status || w.Body.String() != tc.want {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, w.Code, w.Body, tc.status, tc.want)
		}
	}
}

// With EnforceTimeouts an invocation ends at its function's Lambda timeout
// (a function error: API Gateway's 500); without, it runs to its end.
func TestEnforceTimeouts(t *testing.T) {
	slow := func(ctx context.Context, _ []byte) ([]byte, error) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
			return []byte(`{"statusCode": 200, "body": "done"}`), nil
		}
	}
	for _, enforce := range []bool{true, false} {
		g, err := apigw.New([]apigw.Route{{"GET", "/market/{slash+}", "Market"}},
			map[string]apigw.Function{"Market": {Invoke: slow, Timeout: 20 * time.Millisecond}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		g.EnforceTimeouts = enforce
		w := httptest.NewRecorder()
		g.ServeHTTP(w, httptest.NewRequest("GET", "/market/", nil))
		want, body := 200, "done"
		if enforce {
			want, body = 500, `{"message":"Internal Server Error"}`
		}
		if w.Code != want || w.Body.String() != body {
			t.Errorf("enforce %v: %d %s, want %d %s", enforce, w.Code, w.Body, want, body)
		}
	}
}
