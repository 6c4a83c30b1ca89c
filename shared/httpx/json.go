// Package httpx holds the HTTP plumbing every endpoint shares: JSON bodies read
// under a size limit with precise client errors, JSON responses, and the
// per-request access log.
package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/shared/decode"
	"github.com/tollgate-dev/tollgate/shared/validate"
)

// RequestError is a problem with the request itself: the caller must change the
// request before sending it again. Status is 400, 413 or 415.
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

// Unmarshal decodes one JSON value from body into dst, ignoring unknown
// fields. Every failure is a 400 RequestError whose message names what is
// wrong and where: a syntax error with its byte offset, a field of the wrong
// type with its path, or trailing data after the value.
func Unmarshal(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("request body is empty, want a JSON object")
	}
	if !utf8.Valid(body) {
		// encoding/json would silently turn the bad bytes into U+FFFD,
		// changing the ids the caller sent.
		return BadRequest("request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return describeDecodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("request body holds data after the JSON value")
	}
	return nil
}

func describeDecodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return BadRequest("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return BadRequest("request body must be %s, got %s", jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return BadRequest("field %q must be %s, got %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("malformed JSON: unexpected end of input")
	default:
		var fe *FieldError
		if errors.As(err, &fe) {
			return BadRequest("%s", fe.Error())
		}
		return BadRequest("malformed JSON: %v", err)
	}
}

// FieldError is returned by custom UnmarshalJSON methods to report a value
// that is well-formed JSON but not acceptable for its field.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %q %s", e.Field, e.Reason) }

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	default:
		return "of type " + goKind
	}
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

// MaxIDLength is the longest identifier (transaction, player, product id)
// an endpoint accepts.
const MaxIDLength = validate.MaxIDLength

// ValidateID checks an identifier with validate.ID (1 to MaxIDLength
// characters of printable UTF-8, no control characters) and words a refusal
// as a 400 naming field.
func ValidateID(field, s string) error {
	if err := validate.ID(s); err != nil {
		return BadRequest("field %q %v", field, err)
	}
	return nil
}

// PathID returns the route parameter name (a player id, ...) after
// ValidateID has accepted it.
func PathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	return v, ValidateID(name, v)
}

// ReadJSON checks that the request declares a JSON body and reads it under
// limit (RequireJSON, then ReadBody).
func ReadJSON(r *http.Request, limit int64) ([]byte, error) {
	if err := RequireJSON(r); err != nil {
		return nil, err
	}
	return ReadBody(r, limit)
}
