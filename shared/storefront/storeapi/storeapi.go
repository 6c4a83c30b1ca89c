// Package storeapi is the HTTP layer of the store platform API (licensing
// fulfilment, orders, geo subdivisions, tax rates): its one error shape
// {"error": {"code", "message"}}, the one table from domain refusals to
// statuses and codes, the rate-limit headers, and cacheable answers.
package storeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/storefront/geo"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Error codes of the store platform API.
const (
	CodeInvalidRequest      = "invalid_request"
	CodePayloadTooLarge     = "payload_too_large"
	CodeUnauthorized        = "unauthorized"
	CodeStoreNotFound       = "store_not_found"
	CodeProductNotFound     = "product_not_found"
	CodeOrderNotFound       = "order_not_found"
	CodeCountryNotFound     = "country_not_found"
	CodeSubdivisionNotFound = "subdivision_not_found"
	CodeInsufficientKeys    = "insufficient_license_keys"
	CodeReferenceConflict   = "external_reference_conflict"
	CodeRateLimited         = "rate_limited"
	CodeUnavailable         = "unavailable"
)

// ErrorBody is the API's one error shape.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is a machine-readable code and a message for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError answers status with the error body.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	httpx.WriteJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
}

// refusals maps every domain refusal of this API to its answer: the one
// place where reasons become statuses and codes.
var refusals = []struct {
	reason error
	status int
	code   string
}{
	{stores.ErrUnauthorized, http.StatusUnauthorized, CodeUnauthorized},
	{stores.ErrNoStore, http.StatusNotFound, CodeStoreNotFound},
	{stores.ErrUnknownSKU, http.StatusNotFound, CodeProductNotFound},
	{stores.ErrNoOrder, http.StatusNotFound, CodeOrderNotFound},
	{geo.ErrUnknownCountry, http.StatusNotFound, CodeCountryNotFound},
	{geo.ErrUnknownSubdivision, http.StatusNotFound, CodeSubdivisionNotFound},
	{stores.ErrInsufficientKeys, http.StatusConflict, CodeInsufficientKeys},
	{stores.ErrReferenceConflict, http.StatusConflict, CodeReferenceConflict},
	{stores.ErrRateLimited, http.StatusTooManyRequests, CodeRateLimited},
}

// WriteFailure answers err: a request that cannot be read or decoded (400,
// 413), a refusal from the table above, and anything else 503 (logged;
// nothing changed, a retry is safe).
func WriteFailure(w http.ResponseWriter, r *http.Request, log *slog.Logger, what string, err error) {
	var re *httpx.RequestError
	var de *decode.Error
	var rf *refusal.Error
	switch {
	case errors.As(err, &re):
		code := CodeInvalidRequest
		if re.Status == http.StatusRequestEntityTooLarge {
			code = CodePayloadTooLarge
		}
		WriteError(w, re.Status, code, re.Message)
		return
	case errors.As(err, &de):
		WriteError(w, http.StatusBadRequest, CodeInvalidRequest, de.Message)
		return
	case errors.As(err, &rf):
		for _, m := range refusals {
			if errors.Is(rf, m.reason) {
				if m.status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
				}
				WriteError(w, m.status, m.code, rf.Message)
				return
			}
		}
	}
	ctx := r.Context()
	log.Log(ctx, failure.Level(ctx, err), what+" failed", "error", err)
	WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "temporarily unavailable; nothing changed; retry")
}

// KeyedJSON reads a request of the store API's keyed endpoints (checkout
// session, licensing fulfil): the store key presented as Bearer and the
// JSON body (at most limit bytes). When either is missing or malformed it
// has answered (401 with WWW-Authenticate, or the body's 4xx) and ok is
// false. The key is only shaped here; the domain checks it.
func KeyedJSON(w http.ResponseWriter, r *http.Request, log *slog.Logger, what string, limit int64) (key string, body []byte, ok bool) {
	key = auth.BearerToken(r)
	if stores.KeyMode(key) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
		WriteError(w, http.StatusUnauthorized, CodeUnauthorized, "missing or malformed store API key (Authorization: Bearer sk_live_... or sk_test_...)")
		return "", nil, false
	}
	body, err := httpx.ReadJSON(r, limit)
	if err != nil {
		WriteFailure(w, r, log, what, err)
		return "", nil, false
	}
	return key, body, true
}

// WriteCounted sets the rate headers of a request counted against its key
// (res, when it was counted) and logs a counter that could not be updated
// (countErr): the limit fails open, the request is served.
func WriteCounted(w http.ResponseWriter, r *http.Request, log *slog.Logger, store string, res *ratelimit.Result, countErr error, now time.Time) {
	if countErr != nil {
		log.WarnContext(r.Context(), "rate limit counter failed; serving the request (fail open)", "store", store, "error", countErr)
	}
	if res != nil {
		SetRateHeaders(w, *res, now)
	}
}

// SetRateHeaders writes the GitHub-style X-RateLimit-* headers (reset in
// epoch seconds) and the IETF draft's RateLimit-Policy / RateLimit, and
// Retry-After (seconds) when res is over the limit.
func SetRateHeaders(w http.ResponseWriter, res ratelimit.Result, now time.Time) {
	h := w.Header()
	wait := max(1, int(res.Reset.Sub(now).Seconds()+0.999))
	h.Set("X-RateLimit-Limit", strconv.Itoa(res.Policy.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(res.Remaining()))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(res.Reset.Unix(), 10))
	h.Set("RateLimit-Policy", fmt.Sprintf("%q;q=%d;w=%d", res.Policy.Name, res.Policy.Limit, int(res.Policy.Window.Seconds())))
	h.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", res.Policy.Name, res.Remaining(), wait))
	if !res.Allowed {
		h.Set("Retry-After", strconv.Itoa(wait))
	}
}

// LimitByIP counts every request of h by client IP (httpx.ClientIP: the
// address API Gateway saw, never X-Forwarded-For) under p, answering 429
// over the limit. When the counter cannot be updated the request is served
// without the headers and the failure is logged (fail open).
func LimitByIP(l ratelimit.Limiter, p ratelimit.Policy, now func() time.Time, log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := now()
		res, err := l.Hit(r.Context(), p, httpx.ClientIP(r), t)
		if err != nil {
			log.WarnContext(r.Context(), "rate limit counter failed; serving the request (fail open)", "policy", p.Name, "error", err)
			h.ServeHTTP(w, r)
			return
		}
		SetRateHeaders(w, res, t)
		if !res.Allowed {
			WriteError(w, http.StatusTooManyRequests, CodeRateLimited,
				fmt.Sprintf("more than %d requests in %s from this address; retry after %s", p.Limit, p.Window, res.Reset.UTC().Format(time.RFC3339)))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Cacheable is a public answer computed once: its body and ETag.
type Cacheable struct {
	Body []byte
	ETag string
}

// NewCacheable encodes v once.
func NewCacheable(v any) (Cacheable, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return Cacheable{}, err
	}
	return Cacheable{Body: body, ETag: httpx.ETag(body)}, nil
}

// Write answers c with Cache-Control and ETag: 304 with no body when
// If-None-Match names its ETag (weak or strong, or *), else 200.
func (c Cacheable) Write(w http.ResponseWriter, r *http.Request, maxAge time.Duration) {
	h := w.Header()
	h.Set("ETag", c.ETag)
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(maxAge.Seconds())))
	if httpx.NoneMatch(r.Header.Get("If-None-Match"), c.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(c.Body)
}

// Settings of the public endpoints (geo subdivisions, tax rates): no key,
// limited per client IP (LimitByIP), answered from embedded data.
const (
	EnvPublicRateLimit = "PUBLIC_RATE_LIMIT" // requests per window (ratelimit.EnvWindow) per client IP (default 300)
	// PublicMaxAge is how long clients and caches may keep a public answer.
	PublicMaxAge = 24 * time.Hour
)

// PublicPolicy is the per-IP limit of the public endpoints (geo and tax):
// one budget per client IP, shared by both (one counter, named "public").
func PublicPolicy(d deps.Deps) (ratelimit.Policy, error) {
	return ratelimit.Configured(d, "public", EnvPublicRateLimit, 300)
}

// OneParam reads query parameter name given at most once ("" when absent).
func OneParam(q url.Values, name string) (string, error) {
	v := q[name]
	if len(v) > 1 {
		return "", decode.Errorf("query parameter %q is given %d times", name, len(v))
	}
	if len(v) == 0 {
		return "", nil
	}
	return v[0], nil
}
