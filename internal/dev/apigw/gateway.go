package apigw

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Invoke runs one Lambda invocation: the event's JSON in, the function's
// answer's JSON out, as the Lambda service carries them.
type Invoke func(ctx context.Context, payload []byte) ([]byte, error)

// Limits API Gateway sets on an HTTP API.
const (
	// MaxPayload is the largest request body API Gateway passes on.
	MaxPayload = 10 << 20
	// IntegrationTimeout is the longest API Gateway waits for a function.
	IntegrationTimeout = 30 * time.Second
)

// Account, region and API id of the local stand-in, as they appear in
// events (requestContext) and ARNs.
const (
	AccountID = "123456789012"
	Region    = "us-east-1"
	APIID     = "local"
)

// Gateway is the local HTTP API.
type Gateway struct {
	// EnforceTimeouts ends an invocation at its function's Lambda timeout
	// (as Lambda does) instead of only logging that it ran past it: the
	// emulators are slower than DynamoDB (moto serves one call at a time),
	// so a test under load would see timeouts AWS would not.
	EnforceTimeouts bool

	routes  []compiled
	invoke  map[string]Invoke
	timeout map[string]time.Duration
	logger  *slog.Logger
}

// Function is what the gateway knows of one function: how to invoke it and
// its Lambda timeout (the invocation's deadline).
type Function struct {
	Invoke  Invoke
	Timeout time.Duration
}

// New checks the routes as API Gateway would and serves them with the
// functions' invocations (by logical id).
func New(routes []Route, functions map[string]Function, logger *slog.Logger) (*Gateway, error) {
	compiledRoutes, err := Compile(routes)
	if err != nil {
		return nil, err
	}
	g := &Gateway{routes: compiledRoutes, invoke: map[string]Invoke{}, timeout: map[string]time.Duration{}, logger: logger}
	for _, r := range routes {
		fn, ok := functions[r.Function]
		if !ok || fn.Invoke == nil {
			return nil, fmt.Errorf("route %s: function %s cannot be invoked", r.Key(), r.Function)
		}
		g.invoke[r.Function], g.timeout[r.Function] = fn.Invoke, fn.Timeout
	}
	if g.logger == nil {
		g.logger = slog.New(slog.DiscardHandler)
	}
	return g, nil
}

// Select picks the route of a request as API Gateway does for an HTTP API:
// a full match of path and method (most specific first), then a route
// ending in a greedy variable, then $default. rawPath is the path as the
// client sent it (still URL-encoded); the variables' values come back
// decoded, as API Gateway passes them.
func (g *Gateway) Select(method, rawPath string) (Route, map[string]string, bool) {
	parts := strings.Split(strings.TrimPrefix(rawPath, "/"), "/")
	if rawPath == "/" {
		parts = nil
	}
	var best *compiled
	var bestParams map[string]string
	for _, greedy := range []bool{false, true} {
		for i := range g.routes {
			c := &g.routes[i]
			if c.Path == DefaultRoute || c.greedy() != greedy || (c.Method != method && c.Method != "ANY") {
				continue
			}
			params, ok := c.match(parts)
			if !ok || (best != nil && !moreSpecific(*c, *best)) {
				continue
			}
			best, bestParams = c, params
		}
		if best != nil {
			decoded := make(map[string]string, len(bestParams))
			for k, v := range bestParams {
				if d, err := url.PathUnescape(v); err == nil {
					v = d
				}
				decoded[k] = v
			}
			if len(decoded) == 0 {
				decoded = nil
			}
			return best.Route, decoded, true
		}
	}
	for _, c := range g.routes {
		if c.Path == DefaultRoute {
			return c.Route, nil, true
		}
	}
	return Route{}, nil, false
}

// ServeHTTP answers a request as the deployed HTTP API would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rawPath := r.URL.EscapedPath()
	if r.RequestURI != "" && strings.HasPrefix(r.RequestURI, "/") {
		rawPath, _, _ = strings.Cut(r.RequestURI, "?")
	}
	route, params, ok := g.Select(r.Method, rawPath)
	if !ok {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > MaxPayload {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := Event(r, rawPath, route, params, body, time.Now())
	payload, err := json.Marshal(ev)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	timeout := g.timeout[route.Function]
	if timeout <= 0 || timeout > IntegrationTimeout {
		timeout = IntegrationTimeout
	}
	ctx, start := r.Context(), time.Now()
	if g.EnforceTimeouts {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       ev.RequestContext.RequestID,
		InvokedFunctionArn: "arn:aws:lambda:" + Region + ":" + AccountID + ":function:" + route.Function,
	})
	// The trace header, where aws-lambda-go's runtime loop puts it (and
	// lambdarun's log handler reads it).
	//lint:ignore SA1029 aws-lambda-go's own key is this plain string
	ctx = context.WithValue(ctx, "x-amzn-trace-id", ev.Headers["x-amzn-trace-id"]) //nolint:staticcheck,revive // SA1029: as above
	answer, err := g.invoke[route.Function](ctx, payload)
	if took := time.Since(start); took > timeout && !g.EnforceTimeouts {
		g.logger.Warn("function ran past its Lambda timeout (not enforced locally)", "function", route.Function, "route", route.Key(), "timeout", timeout, "took", took)
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil:
		// Past the function's Lambda timeout Lambda ends it (a function
		// error: 500); past the integration's, API Gateway stops waiting (503).
		g.logger.Error("function timed out", "function", route.Function, "route", route.Key(), "timeout", timeout)
		if timeout == IntegrationTimeout {
			writeMessage(w, http.StatusServiceUnavailable, "Service Unavailable")
		} else {
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		}
		return
	case err != nil:
		// A function error (the invocation failed): API Gateway's 500.
		g.logger.Error("function error", "function", route.Function, "route", route.Key(), "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := WriteAnswer(w, answer); err != nil {
		g.logger.Error("function answer API Gateway cannot use", "function", route.Function, "route", route.Key(), "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// Event builds the payload format 2.0 event API Gateway sends for r on
// route: lower-case header names with repeated headers joined by commas,
// cookies split out of the headers, query parameters decoded (repeated ones
// joined by commas), path variables decoded, the body base64-encoded unless
// its content type is text.
func Event(r *http.Request, rawPath string, route Route, params map[string]string, body []byte, now time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		switch lower {
		case "cookie":
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		case "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection":
			continue // hop-by-hop: they end at the gateway
		}
		headers[lower] = strings.Join(values, ",")
	}
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if _, p, err := net.SplitHostPort(r.Host); err == nil {
		port = p
	}
	headers["host"] = r.Host
	if len(body) > 0 {
		headers["content-length"] = fmt.Sprint(len(body))
	}
	if prior := headers["x-forwarded-for"]; prior != "" {
		headers["x-forwarded-for"] = prior + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-proto"], headers["x-forwarded-port"] = proto, port
	requestID := randomHex(8)
	headers["x-amzn-trace-id"] = fmt.Sprintf("Root=1-%08x-%s", now.Unix(), randomHex(12))

	var query map[string]string
	for _, pair := range strings.Split(r.URL.RawQuery, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		if query == nil {
			query = map[string]string{}
		}
		if prev, ok := query[k]; ok {
			v = prev + "," + v
		}
		query[k] = v
	}
	domain := r.Host
	prefix, _, _ := strings.Cut(domain, ".")
	decodedPath := rawPath
	if d, err := url.PathUnescape(rawPath); err == nil {
		decodedPath = d
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              route.Key(),
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     route.Key(),
			AccountID:    AccountID,
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        APIID,
			DomainName:   domain,
			DomainPrefix: prefix,
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      decodedPath,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// isText reports whether API Gateway passes a body of this content type as
// text. Checked against AWS (ministackorg/ministack#766): text/*,
// application/json, application/xml and application/javascript arrive as
// text; everything else — form posts and a missing Content-Type included —
// arrives base64-encoded.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), mt == "application/json", mt == "application/xml", mt == "application/javascript":
		return true
	}
	return false
}

// WriteAnswer writes a function's payload 2.0 answer as API Gateway does:
// statusCode, headers (a value with commas stays one header line),
// multiValueHeaders, cookies as Set-Cookie, a base64 body decoded. An
// answer that is JSON without a statusCode is a 200 whose body is that
// JSON.
func WriteAnswer(w http.ResponseWriter, answer []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(answer, &probe); err != nil || probe["statusCode"] == nil {
		if !json.Valid(answer) {
			return fmt.Errorf("answer is not JSON")
		}
		w.Header().Set("Content-Type", "application/json")
		_, err := w.Write(answer)
		return err
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(answer, &res); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if res.StatusCode < 100 || res.StatusCode > 599 {
		return fmt.Errorf("answer has status %d", res.StatusCode)
	}
	body := []byte(res.Body)
	if res.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			return fmt.Errorf("answer body is not base64: %w", err)
		}
	}
	h := w.Header()
	names := make([]string, 0, len(res.Headers))
	for k := range res.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		h.Set(k, res.Headers[k])
	}
	for k, vs := range res.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range res.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Del("Content-Length")
	w.WriteHeader(res.StatusCode)
	_, err := io.Copy(w, bytes.NewReader(body))
	return err
}

func writeMessage(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"message":%q}`, message)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
