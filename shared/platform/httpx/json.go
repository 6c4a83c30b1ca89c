// Package httpx holds the HTTP plumbing every endpoint shares: bodies read
// under a size limit, JSON responses, the answer to a request that cannot
// be read or decoded, and the per-request access log. Decoding what a body
// or a path holds is shared/platform/decode's, which imports no HTTP code.
package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
)

// RequestError is a request HTTP cannot read: no JSON Content-Type, a body
// that cannot be read or is over the limit. The caller must change the
// request before sending it again. Status is 400, 413 or 415. A request
// read but not decodable is a *decode.Error instead.
type RequestError struct {
	Status  int
	Message string
}

func (e *RequestError) Error() string { return e.Message }

// BadRequest returns a 400 RequestError with a formatted message.
func BadRequest(format string, args ...any) *RequestError {
	return &RequestError{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// ReadBody reads the whole request body, failing with a 413 RequestError when it
// holds more than limit bytes. The bytes are returned exactly as received, so
// they can be signature-checked before they are decoded.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, &RequestError{Status: http.StatusBadRequest, Message: "could not read the request body"}
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit)
	}
	return body, nil
}

func tooLarge(limit int64) *RequestError {
	return &RequestError{
		Status:  http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("request body is larger than %d bytes", limit),
	}
}

// RequireJSON fails with a 400 RequestError unless the request declares a JSON
// body (application/json or any +json media type).
func RequireJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return BadRequest("request must be JSON: Content-Type header is missing")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return BadRequest("request must be JSON: Content-Type is %q, want application/json", ct)
	}
	return nil
}

// WriteJSON writes v as the JSON response body with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"could not encode the response"}`)
	}
	WriteRawJSON(w, status, body)
}

// WriteRawJSON writes an already encoded JSON body with the given status.
func WriteRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ErrorBody is the error shape of the endpoints that answer
// {"error": "..."}: the purchase authorization call and the game server's
// endpoints.
type ErrorBody struct {
	Error string `json:"error"`
}

// WriteError answers status with {"error": message}.
func WriteError(w http.ResponseWriter, status int, message string) {
	WriteJSON(w, status, ErrorBody{Error: message})
}

// WriteRequestError answers a request that cannot be read or decoded: a
// RequestError with its own status and message, a *decode.Error with 400
// and its message, and any other error with 400.
func WriteRequestError(w http.ResponseWriter, err error) {
	var re *RequestError
	var de *decode.Error
	switch {
	case errors.As(err, &re):
		WriteError(w, re.Status, re.Message)
	case errors.As(err, &de):
		WriteError(w, http.StatusBadRequest, de.Message)
	default:
		WriteError(w, http.StatusBadRequest, err.Error())
	}
}

// PathID returns the route parameter name (a player id, ...) after
// decode.ID has accepted it; a refusal is a *decode.Error naming the
// parameter, answered 400.
func PathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	return v, decode.ID(name, v)
}

// ReadJSON checks that the request declares a JSON body and reads it under
// limit (RequireJSON, then ReadBody).
func ReadJSON(r *http.Request, limit int64) ([]byte, error) {
	if err := RequireJSON(r); err != nil {
		return nil, err
	}
	return ReadBody(r, limit)
}

// ClientIP is the address of the client as the platform saw it: in Lambda
// the aws-lambda-go-api-proxy adapter sets RemoteAddr to API Gateway's
// requestContext.http.sourceIp; under make run net/http sets it to the
// peer's ip:port. Headers a client can write (X-Forwarded-For, Forwarded)
// are never read.
func ClientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
