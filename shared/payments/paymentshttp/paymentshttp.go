// Package paymentshttp is the HTTP layer of the payments API: the headers
// every call carries (Secret-Key or Publishable-Key, Idempotent-Key,
// PSP-Type, PSP-Test-Mode), the body, and the one table that turns domain
// refusals into the original's {"error_code", "error_description"} answers.
package paymentshttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/payments/paymentsapi"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// Header names, as the original's.
const (
	HeaderSecretKey      = "Secret-Key"
	HeaderPublishableKey = "Publishable-Key"
	HeaderIdempotentKey  = "Idempotent-Key"
	HeaderPSPType        = "PSP-Type"
	HeaderPSPTestMode    = "PSP-Test-Mode"
)

// ErrorBody is the payments API's error answer.
type ErrorBody struct {
	Code        string `json:"error_code"`
	Description string `json:"error_description"`
}

// CodeInProgress is Tollgate's addition: a concurrent duplicate of a
// request still with the PSP (409; retry).
const CodeInProgress = "3022"

// refusals maps every domain refusal to its HTTP status and code: the one
// place where they meet. Statuses are the original's (its 3xxx are 400,
// 4000 is 500) so an integration written for it works unchanged; 3022 is
// Tollgate's.
var refusals = []struct {
	reason error
	status int
	code   string
}{
	{payments.ErrUnauthorized, http.StatusUnauthorized, "1000"},
	{payments.ErrPublishableKey, http.StatusBadRequest, "3000"},
	{payments.ErrSecretKey, http.StatusBadRequest, "3001"},
	{payments.ErrPSPNotConfigured, http.StatusBadRequest, "3003"},
	{payments.ErrAliasNotFound, http.StatusBadRequest, "3005"},
	{payments.ErrAliasOtherMerchant, http.StatusBadRequest, "3006"},
	{payments.ErrAliasIncomplete, http.StatusBadRequest, "3007"},
	{payments.ErrTransactionMissing, http.StatusBadRequest, "3012"},
	{payments.ErrAlreadyCaptured, http.StatusBadRequest, "3013"},
	{payments.ErrTestModeMismatch, http.StatusBadRequest, "3014"},
	{payments.ErrNotAllowed, http.StatusBadRequest, "3016"},
	{payments.ErrSEPAPreauth, http.StatusBadRequest, "3017"},
	{payments.ErrRefundExceeds, http.StatusBadRequest, "3018"},
	{payments.ErrIdempotency, http.StatusBadRequest, "3021"},
	{payments.ErrInProgress, http.StatusConflict, CodeInProgress},
	{payments.ErrPSP, http.StatusInternalServerError, "4000"},
}

// Spec says what a call carries.
type Spec struct {
	Key        payments.KeyKind // the key header it is called with
	Idempotent bool             // Idempotent-Key required
	PSPType    bool             // PSP-Type required
	Body       bool             // a JSON body
	PathParam  string           // the route's id parameter, if any
}

// Request is a call's common parts, checked.
type Request struct {
	Merchant      string
	TestMode      bool
	IdempotentKey string
	PSPType       psp.Type
	PathID        string
	Body          []byte
	UserAgent     string
	// Fingerprint covers the method, path, test mode and body: what an
	// Idempotent-Key binds.
	Fingerprint string
}

// Serve answers a checked request: the status and body of a success, or an
// error (a refusal, an *paymentsapi.Invalid, or a failure).
type Serve func(ctx context.Context, req Request) (int, any, error)

// Handle checks a call's headers, key and body as spec says, then serves
// it; every error is answered in the API's shape.
func Handle(svc *payments.Service, log *slog.Logger, spec Spec, serve Serve) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		req, err := read(ctx, svc, r, spec)
		if err == nil {
			var status int
			var answer any
			if status, answer, err = serve(ctx, req); err == nil {
				if answer == nil {
					w.WriteHeader(status)
					return
				}
				httpx.WriteJSON(w, status, answer)
				return
			}
		}
		WriteError(ctx, w, log, err)
	})
}

func read(ctx context.Context, svc *payments.Service, r *http.Request, spec Spec) (Request, error) {
	var req Request
	var err error
	if req.TestMode, err = testMode(r.Header); err != nil {
		return req, err
	}
	if spec.Idempotent {
		if req.IdempotentKey, err = idempotentKey(r.Header); err != nil {
			return req, err
		}
	}
	if spec.PSPType {
		v, _, err := httpx.OneToken(r.Header, HeaderPSPType)
		if err != nil {
			return req, repeated(err)
		}
		if v == "" {
			return req, &paymentsapi.Invalid{Code: paymentsapi.CodeMissingHeader, Message: "the PSP-Type header is required"}
		}
		t, ok := psp.Known(v)
		if !ok {
			return req, &paymentsapi.Invalid{Code: paymentsapi.CodeArgument, Message: "PSP-Type must be one of STRIPE, SANDBOX, BS_PAYONE, BRAINTREE, ADYEN"}
		}
		req.PSPType = t
	}
	if spec.PathParam != "" {
		if req.PathID, err = httpx.PathID(r, spec.PathParam); err != nil {
			return req, &paymentsapi.Invalid{Code: paymentsapi.CodeArgument, Message: err.Error()}
		}
	}
	header := HeaderSecretKey
	if spec.Key == payments.PublishableKey {
		header = HeaderPublishableKey
	}
	presented, _, err := httpx.OneToken(r.Header, header)
	if err != nil {
		return req, refusal.New(payments.ErrUnauthorized, "the %s header is given more than once", header)
	}
	if req.Merchant, err = svc.Merchants.Authenticate(ctx, spec.Key, presented); err != nil {
		return req, err
	}
	if spec.Body {
		if err := httpx.RequireJSON(r); err != nil {
			return req, &paymentsapi.Invalid{Code: paymentsapi.CodeUnreadable, Message: err.Error()}
		}
	}
	if req.Body, err = httpx.ReadBody(r, paymentsapi.BodyLimit); err != nil {
		return req, err
	}
	req.UserAgent = r.UserAgent()
	req.Fingerprint = fingerprint(r.Method, r.URL.Path, req.TestMode, req.Body)
	return req, nil
}

// repeated answers a header given more than once (httpx.OneToken): 2003.
func repeated(err error) error {
	return &paymentsapi.Invalid{Code: paymentsapi.CodeArgument, Message: err.Error()}
}

func testMode(h http.Header) (bool, error) {
	v, _, err := httpx.OneToken(h, HeaderPSPTestMode)
	if err != nil {
		return false, repeated(err)
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, &paymentsapi.Invalid{Code: paymentsapi.CodeArgument, Message: "PSP-Test-Mode must be true or false"}
}

func idempotentKey(h http.Header) (string, error) {
	v, _, err := httpx.OneToken(h, HeaderIdempotentKey)
	switch {
	case err != nil:
		return "", repeated(err)
	case v == "":
		return "", &paymentsapi.Invalid{Code: paymentsapi.CodeMissingHeader, Message: "the Idempotent-Key header is required"}
	case len(v) < payments.MinIdempotentKey || len(v) > payments.MaxIdempotentKey:
		return "", &paymentsapi.Invalid{Code: paymentsapi.CodeArgument, Message: "Idempotent-Key must hold 10 to 40 characters"}
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x21 || r > 0x7e }):
		return "", &paymentsapi.Invalid{Code: paymentsapi.CodeArgument, Message: "Idempotent-Key must be printable ASCII without spaces"}
	}
	return v, nil
}

// fingerprint is what an Idempotent-Key binds: method, path, test mode and
// the body (compacted, so whitespace does not matter).
func fingerprint(method, path string, test bool, body []byte) string {
	var compact bytes.Buffer
	if json.Compact(&compact, body) != nil {
		compact.Reset()
		compact.Write(body)
	}
	mode := "live"
	if test {
		mode = "test"
	}
	return dynamo.Fingerprint(method, path, mode, compact.String())
}

// WriteError answers err in the API's shape.
func WriteError(ctx context.Context, w http.ResponseWriter, log *slog.Logger, err error) {
	var inv *paymentsapi.Invalid
	var re *httpx.RequestError
	var ref *refusal.Error
	switch {
	case errors.As(err, &inv):
		httpx.WriteJSON(w, http.StatusBadRequest, ErrorBody{Code: inv.Code, Description: inv.Message})
	case errors.As(err, &re):
		httpx.WriteJSON(w, re.Status, ErrorBody{Code: paymentsapi.CodeUnreadable, Description: re.Message})
	case errors.As(err, &ref):
		for _, m := range refusals {
			if errors.Is(ref, m.reason) {
				httpx.WriteJSON(w, m.status, ErrorBody{Code: m.code, Description: ref.Message})
				return
			}
		}
		httpx.WriteJSON(w, http.StatusBadRequest, ErrorBody{Code: paymentsapi.CodeValidation, Description: ref.Message})
	default:
		log.Log(ctx, failure.Level(ctx, err), "payments call failed", "error", err)
		httpx.WriteJSON(w, http.StatusServiceUnavailable, ErrorBody{Code: "5000", Description: "temporarily unavailable; nothing changed; retry (with the same Idempotent-Key)"})
	}
}

// ServeCharge serves a pre-authorization (capture false) or an
// authorization: the two calls differ only in that flag.
func ServeCharge(svc *payments.Service, capture bool) Serve {
	return func(ctx context.Context, req Request) (int, any, error) {
		c, err := paymentsapi.DecodeCharge(req.Body)
		if err != nil {
			return 0, nil, err
		}
		a, err := svc.Charge(ctx, payments.ChargeRequest{Merchant: req.Merchant, IdempotentKey: req.IdempotentKey, Fingerprint: req.Fingerprint,
			TestMode: req.TestMode, Capture: capture, AliasID: c.AliasID, Amount: c.PaymentData.Amount, Currency: c.PaymentData.Currency,
			Reason: c.PaymentData.Reason, PurchaseID: c.PurchaseID, CustomerID: c.CustomerID})
		return http.StatusCreated, a, err
	}
}

// ChargeSpec is what a pre-authorization or an authorization carries.
var ChargeSpec = Spec{Key: payments.SecretKey, Idempotent: true, Body: true}
