// Package contract holds Tollgate's handlers to its OpenAPI document
// (shared/openapi) in tests: Check wraps a handler so every request a test
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
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/tollgate-dev/tollgate/shared/openapi"
)

// Contract is the loaded document and a router over its paths.
type Contract struct {
	Doc    *openapi3.T
	router routers.Router
}

var load = sync.OnceValues(func() (*Contract, error) { return Parse(openapi.YAML()) })

// Load returns Tollgate's document, parsed and validated once per process.
func Load() (*Contract, error) { return load() }

// Parse loads and validates an OpenAPI document (examples included).
func Parse(data []byte) (*Contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("contract: load: %w", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("contract: invalid document: %w", err)
	}
	// Route on paths alone: tests call handlers on any host.
	routed := *doc
	routed.Servers = nil
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("contract: router: %w", err)
	}
	return &Contract{Doc: doc, router: router}, nil
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
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
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
