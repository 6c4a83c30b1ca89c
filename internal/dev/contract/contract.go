// Package contract holds Tollgate's handlers to its OpenAPI document
// (shared/platform/openapi) in tests: Check wraps a handler so every request a test
// sends and every answer it receives is validated against the document, and
// the document itself is loaded and validated once.
//
// A request the document does not allow must be answered with a documented
// 4xx. Tests that send a request Tollgate accepts beyond what it promises
// (snake_case names, enums as numbers, another key header) say so with
// Beyond, so an accidental divergence still fails.
package contract

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/tollgate-dev/tollgate/shared/platform/openapi"
)

// Contract is the loaded document and routers over its paths: one as
// written, for requests, and one whose objects are closed, for answers.
type Contract struct {
	Doc    *openapi3.T
	router routers.Router
	// answers routes to a copy where every object schema that does not say
	// otherwise refuses properties it does not name: the document leaves
	// objects open for clients, but a field Tollgate writes and the contract
	// does not name is a misspelt or undocumented one.
	answers routers.Router
	closed  *openapi3.T
}

func init() {
	// The checkout's pages answer HTML: a string, like text/plain.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
}

var loadOnce = sync.OnceValues(func() (*Contract, error) { return Parse(openapi.YAML()) })

// Load returns Tollgate's document, parsed and validated once per process.
func Load() (*Contract, error) { return loadOnce() }

// Parse loads and validates an OpenAPI document (examples included).
func Parse(data []byte) (*Contract, error) {
	doc, router, err := load(data)
	if err != nil {
		return nil, err
	}
	closed, answers, err := load(data)
	if err != nil {
		return nil, err
	}
	closeObjects(closed)
	return &Contract{Doc: doc, router: router, answers: answers, closed: closed}, nil
}

func load(data []byte) (*openapi3.T, routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, nil, fmt.Errorf("contract: load: %w", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		return nil, nil, fmt.Errorf("contract: invalid document: %w", err)
	}
	// Route on paths alone: tests call handlers on any host.
	routed := *doc
	routed.Servers = nil
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, nil, fmt.Errorf("contract: router: %w", err)
	}
	return doc, router, nil
}

// closeObjects sets additionalProperties: false on every object schema of
// doc that names properties, says nothing about others and is not composed
// (allOf/anyOf/oneOf would see their branches' properties refused).
func closeObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var visit func(*openapi3.SchemaRef)
	visit = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		composed := len(s.AllOf)+len(s.AnyOf)+len(s.OneOf) > 0
		if len(s.Properties) > 0 && !composed && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			visit(p)
		}
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, x := range list {
				visit(x)
			}
		}
		visit(s.Items)
		visit(s.AdditionalProperties.Schema)
	}
	for _, s := range doc.Components.Schemas {
		visit(s)
	}
	for _, r := range doc.Components.Responses {
		for _, mt := range r.Value.Content {
			visit(mt.Schema)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				for _, mt := range r.Value.Content {
					visit(mt.Schema)
				}
			}
		}
	}
}

// MustLoad is Load for tests.
func MustLoad(t testing.TB) *Contract {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type beyondKey struct{}

// Beyond marks r as deliberately outside the document: Tollgate accepts
// more than it promises (snake_case field names, enums as numbers, a
// renamed key header), and the test proves that. Its answer is still
// validated.
func Beyond(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), beyondKey{}, true))
}

func isBeyond(r *http.Request) bool { b, _ := r.Context().Value(beyondKey{}).(bool); return b }

// ValidateComponent checks a JSON document against the component schema
// name (objects closed, as answers are checked), for code that writes a
// shape outside any one route, such as stashhttp's rpcStatus writers.
func (c *Contract) ValidateComponent(name string, body []byte) error {
	ref, ok := c.closed.Components.Schemas[name]
	if !ok {
		return fmt.Errorf("contract: no component schema %q", name)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("contract: %s: not JSON: %w", name, err)
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("contract: %s outside the contract's %s: %w", truncate(body), name, err)
	}
	return nil
}

// Exchange is one request and its answer.
type Exchange struct {
	Method, Target string
	Header         http.Header
	Body           []byte
	Status         int
	RespHeader     http.Header
	RespBody       []byte
	Beyond         bool
}

// ValidateRequest checks a request against the document: its route, path
// and query parameters, headers, security (credentials present), and body.
// It returns the route input for ValidateResponse.
func (c *Contract) ValidateRequest(ctx context.Context, method, target string, header http.Header, body []byte) (*openapi3filter.RequestValidationInput, error) {
	req := httptest.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	req.Header = header.Clone()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: credentialsPresent},
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		return in, fmt.Errorf("%s %s: request outside the contract: %w", method, target, err)
	}
	return in, nil
}

// ValidateResponse checks an answer against the operation in: its status
// must be documented, and its body must match the documented schema.
func (c *Contract) ValidateResponse(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) error {
	route, params, err := c.answers.FindRoute(in.Request)
	if err != nil {
		return fmt.Errorf("%s %s: %w", in.Request.Method, in.Request.URL.RequestURI(), err)
	}
	closed := *in
	closed.Route, closed.PathParams = route, params
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &closed,
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("%s %s answered %d %s: answer outside the contract: %w", in.Request.Method, in.Request.URL.RequestURI(), status, truncate(body), err)
	}
	return nil
}

// Verify checks one exchange: the answer against the document, and that a
// request outside the document (unless marked Beyond) was refused with a
// 4xx. A path the document does not have must be answered 404 or 405.
func (c *Contract) Verify(ctx context.Context, x Exchange) error {
	if x.Status == httpClientGone {
		return nil // no answer was sent: the client had gone
	}
	in, reqErr := c.ValidateRequest(ctx, x.Method, x.Target, x.Header, x.Body)
	var notFound bool
	if in == nil {
		notFound = errors.Is(reqErr, routers.ErrPathNotFound) || errors.Is(reqErr, routers.ErrMethodNotAllowed)
		if notFound && (x.Status == http.StatusNotFound || x.Status == http.StatusMethodNotAllowed) {
			return nil // as API Gateway answers a path no route matches
		}
		return fmt.Errorf("answered %d to a request the contract has no operation for: %w", x.Status, reqErr)
	}
	if err := c.ValidateResponse(ctx, in, x.Status, x.RespHeader, x.RespBody); err != nil {
		return err
	}
	if reqErr != nil && !x.Beyond && (x.Status < 400 || x.Status > 499) {
		return fmt.Errorf("answered %d to a request the contract does not allow (mark it contract.Beyond if Tollgate accepts it on purpose): %w", x.Status, reqErr)
	}
	return nil
}

// httpClientGone is the status the access log gives a request whose client
// went away before the answer (httpx.Observe).
const httpClientGone = 499

// Check wraps h so every exchange through it is verified against the
// document; a violation fails t (from any goroutine).
func Check(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	c := MustLoad(t)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			var err error
			body, err = io.ReadAll(r.Body)
			if err != nil {
				t.Errorf("contract: read request body: %v", err)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		header := r.Header.Clone()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		res := rec.Result()
		respBody := rec.Body.Bytes()
		x := Exchange{Method: r.Method, Target: r.URL.RequestURI(), Header: header, Body: body,
			Status: res.StatusCode, RespHeader: res.Header, RespBody: respBody, Beyond: isBeyond(r)}
		if r.Context().Err() != nil && res.StatusCode == httpClientGone {
			x.Status = httpClientGone
		}
		if err := c.Verify(context.Background(), x); err != nil {
			t.Errorf("contract: %v", err)
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(respBody)
	})
}

// credentialsPresent accepts a security requirement when its credential is
// present (one header, non-empty; a bearer token for http bearer). Whether
// it is right is the handler's business, answered 401.
func credentialsPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	h := in.RequestValidationInput.Request.Header
	switch {
	case s.Type == "apiKey" && s.In == "header":
		if v := h.Values(s.Name); len(v) != 1 || v[0] == "" {
			return fmt.Errorf("header %s: want one non-empty value, got %d", s.Name, len(v))
		}
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		v := h.Values("Authorization")
		const prefix = "bearer " // the scheme is case-insensitive (RFC 9110)
		if len(v) != 1 || len(v[0]) <= len(prefix) || !strings.EqualFold(v[0][:len(prefix)], prefix) {
			return errors.New("want one Authorization: Bearer <token> header")
		}
	default:
		return fmt.Errorf("security scheme %s/%s is not checked here", s.Type, s.In)
	}
	return nil
}

func truncate(b []byte) string {
	const max = 300
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// VerifyEvent is Verify for an API Gateway HTTP API (v2) event and the
// function's answer to it, as `sam local invoke` and make invoke send them.
func (c *Contract) VerifyEvent(ctx context.Context, event []byte, resp events.APIGatewayV2HTTPResponse) error {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		return fmt.Errorf("contract: not an HTTP API v2 event: %w", err)
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return fmt.Errorf("contract: event body: %w", err)
		}
	}
	header := http.Header{}
	for k, v := range ev.Headers {
		header.Set(k, v) // API Gateway has joined a repeated header into one value
	}
	target := ev.RawPath
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	respHeader := http.Header{}
	for k, v := range resp.Headers {
		respHeader.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		respHeader[http.CanonicalHeaderKey(k)] = vs
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return fmt.Errorf("contract: answer body: %w", err)
		}
	}
	return c.Verify(ctx, Exchange{Method: ev.RequestContext.HTTP.Method, Target: target, Header: header, Body: body,
		Status: resp.StatusCode, RespHeader: respHeader, RespBody: respBody})
}
