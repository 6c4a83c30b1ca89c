package httpx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
)

// requestError asserts err is a *httpx.RequestError with status.
func requestError(t *testing.T, err error, status int) *httpx.RequestError {
	t.Helper()
	var re *httpx.RequestError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *RequestError", err, err)
	}
	if re.Status != status {
		t.Errorf("status = %d, want %d (message %q)", re.Status, status, re.Message)
	}
	if re.Error() != re.Message {
		t.Errorf("Error() = %q, want the message %q", re.Error(), re.Message)
	}
	return re
}

// countingReader records how many bytes were read from it.
type countingReader struct {
	r     io.Reader
	reads int
	n     int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReadBody(t *testing.T) {
	const limit = 16
	tests := []struct {
		name          string
		body          []byte
		contentLength int64 // -1: unknown (chunked)
		wantStatus    int   // 0: success
	}{
		{"empty", []byte{}, 0, 0},
		{"under the limit", bytes.Repeat([]byte("a"), limit-1), limit - 1, 0},
		{"at the limit", bytes.Repeat([]byte("a"), limit), limit, 0},
		{"one over the limit", bytes.Repeat([]byte("a"), limit+1), limit + 1, http.StatusRequestEntityTooLarge},
		{"far over the limit", bytes.Repeat([]byte("a"), 10*limit), 10 * limit, http.StatusRequestEntityTooLarge},
		{"unknown length, under", bytes.Repeat([]byte("a"), limit-1), -1, 0},
		{"unknown length, at", bytes.Repeat([]byte("a"), limit), -1, 0},
		{"unknown length, over", bytes.Repeat([]byte("a"), limit+1), -1, http.StatusRequestEntityTooLarge},
		{"declared small, actually over", bytes.Repeat([]byte("a"), limit+5), 4, http.StatusRequestEntityTooLarge},
		{"binary bytes kept exactly", []byte("{\"a\":1}\r\n\x00\xff\xfe\t "), 14, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tt.body))
			r.ContentLength = tt.contentLength
			got, err := httpx.ReadBody(r, limit)
			if tt.wantStatus != 0 {
				re := requestError(t, err, tt.wantStatus)
				if want := fmt.Sprintf("request body is larger than %d bytes", limit); re.Message != want {
					t.Errorf("message = %q, want %q", re.Message, want)
				}
				if got != nil {
					t.Errorf("body returned with the error: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadBody: %v", err)
			}
			if !bytes.Equal(got, tt.body) {
				t.Errorf("ReadBody = %q, want %q", got, tt.body)
			}
		})
	}
}

func TestReadBodyContentLengthOverLimitNotRead(t *testing.T) {
	body := &countingReader{r: strings.NewReader(strings.Repeat("a", 100))}
	r := httptest.NewRequest(http.MethodPost, "/", body)
	r.ContentLength = 100
	_, err := httpx.ReadBody(r, 10)
	_ = requestError(t, err, http.StatusRequestEntityTooLarge)
	if body.reads != 0 {
		t.Errorf("body read %d times (%d bytes) although Content-Length was over the limit", body.reads, body.n)
	}
}

func TestReadBodyReadsAtMostLimitPlusOne(t *testing.T) {
	body := &countingReader{r: strings.NewReader(strings.Repeat("a", 1<<20))}
	r := httptest.NewRequest(http.MethodPost, "/", body)
	r.ContentLength = -1
	_, err := httpx.ReadBody(r, 10)
	_ = requestError(t, err, http.StatusRequestEntityTooLarge)
	if body.n > 11 {
		t.Errorf("read %d bytes of an oversized body, want at most limit+1 = 11", body.n)
	}
}

func TestReadBodyNilBody(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Body = nil
	got, err := httpx.ReadBody(r, 10)
	if err != nil || got != nil {
		t.Errorf("ReadBody(nil body) = %q, %v; want nil, nil", got, err)
	}
}

func TestReadBodyReadError(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", failingReader{})
	r.ContentLength = -1
	_, err := httpx.ReadBody(r, 10)
	re := requestError(t, err, http.StatusBadRequest)
	if want := "could not read the request body"; re.Message != want {
		t.Errorf("message = %q, want %q", re.Message, want)
	}
}

func TestRequireJSON(t *testing.T) {
	tests := []struct {
		name        string
		contentType *string // nil: header absent
		ok          bool
	}{
		{"application/json", ptr("application/json"), true},
		{"with charset", ptr("application/json; charset=utf-8"), true},
		{"upper case", ptr("Application/JSON"), true},
		{"vendor +json", ptr("application/vnd.foo+json"), true},
		{"problem+json with parameter", ptr("application/problem+json; charset=utf-8"), true},
		{"missing", nil, false},
		{"empty", ptr(""), false},
		{"text/plain", ptr("text/plain"), false},
		{"form", ptr("application/x-www-form-urlencoded"), false},
		{"json as a prefix only", ptr("application/jsonp"), false},
		{"garbage", ptr("}}not a media type{{"), false},
		{"bad parameter", ptr("application/json; charset"), false},
		{"type without subtype", ptr("application"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
			if tt.contentType != nil {
				r.Header.Set("Content-Type", *tt.contentType)
			}
			err := httpx.RequireJSON(r)
			if tt.ok {
				if err != nil {
					t.Errorf("RequireJSON(%q) = %v, want nil", *tt.contentType, err)
				}
				return
			}
			re := requestError(t, err, http.StatusBadRequest)
			if !strings.Contains(re.Message, "JSON") {
				t.Errorf("message %q does not say JSON is required", re.Message)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// PathID answers a route parameter that decode.ID refuses with a
// *decode.Error naming the parameter, which WriteRequestError answers 400.
// (decode.ID's every answer is tested in shared/platform/decode.)
func TestPathID(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		wantMsg string // "" means valid
	}{
		{"simple", "player-1", ""},
		{"exactly 128 multibyte runes", strings.Repeat("é", 128), ""},
		{"empty", "", `field "playerId" must not be empty`},
		{"129 ASCII", strings.Repeat("a", 129), `field "playerId" is longer than 128 characters`},
		{"NUL", "a\x00b", `field "playerId" holds a control or non-printable character`},
		{"invalid UTF-8", "a\xffb", `field "playerId" is not valid UTF-8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.SetPathValue("playerId", tt.id)
			got, err := httpx.PathID(r, "playerId")
			if got != tt.id {
				t.Errorf("PathID = %q, want %q", got, tt.id)
			}
			if tt.wantMsg == "" {
				if err != nil {
					t.Errorf("PathID(%q) = %v, want nil", tt.id, err)
				}
				return
			}
			var de *decode.Error
			if !errors.As(err, &de) || de.Message != tt.wantMsg {
				t.Fatalf("PathID(%q) = %v, want a *decode.Error %q", tt.id, err, tt.wantMsg)
			}
			rec := httptest.NewRecorder()
			httpx.WriteRequestError(rec, err)
			checkErrorResponse(t, rec, http.StatusBadRequest, tt.wantMsg)
		})
	}
}

func TestBadRequest(t *testing.T) {
	re := httpx.BadRequest("field %q is %d", "x", 3)
	if re.Status != http.StatusBadRequest || re.Message != `field "x" is 3` {
		t.Errorf("BadRequest = %+v", re)
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name       string
		write      func(http.ResponseWriter)
		wantStatus int
		wantMsg    string
	}{
		{
			name:       "WriteError",
			write:      func(w http.ResponseWriter) { httpx.WriteError(w, http.StatusTeapot, "short and stout") },
			wantStatus: http.StatusTeapot,
			wantMsg:    "short and stout",
		},
		{
			name:       "WriteError escapes",
			write:      func(w http.ResponseWriter) { httpx.WriteError(w, http.StatusConflict, "a \"quoted\" <b>&\n") },
			wantStatus: http.StatusConflict,
			wantMsg:    "a \"quoted\" <b>&\n",
		},
		{
			name:       "WriteError empty message",
			write:      func(w http.ResponseWriter) { httpx.WriteError(w, http.StatusInternalServerError, "") },
			wantStatus: http.StatusInternalServerError,
			wantMsg:    "",
		},
		{
			name: "RequestError 413",
			write: func(w http.ResponseWriter) {
				httpx.WriteRequestError(w, &httpx.RequestError{Status: http.StatusRequestEntityTooLarge, Message: "too big"})
			},
			wantStatus: http.StatusRequestEntityTooLarge,
			wantMsg:    "too big",
		},
		{
			name: "RequestError 415",
			write: func(w http.ResponseWriter) {
				httpx.WriteRequestError(w, &httpx.RequestError{Status: http.StatusUnsupportedMediaType, Message: "not json"})
			},
			wantStatus: http.StatusUnsupportedMediaType,
			wantMsg:    "not json",
		},
		{
			name: "wrapped RequestError",
			write: func(w http.ResponseWriter) {
				httpx.WriteRequestError(w, fmt.Errorf("decode: %w", httpx.BadRequest("field %q bad", "x")))
			},
			wantStatus: http.StatusBadRequest,
			wantMsg:    `field "x" bad`,
		},
		{
			name:       "decode error is a 400",
			write:      func(w http.ResponseWriter) { httpx.WriteRequestError(w, decode.Errorf("missing field %q", "items")) },
			wantStatus: http.StatusBadRequest,
			wantMsg:    `missing field "items"`,
		},
		{
			name: "wrapped decode error",
			write: func(w http.ResponseWriter) {
				httpx.WriteRequestError(w, fmt.Errorf("decode: %w", decode.Errorf("field %q bad", "x")))
			},
			wantStatus: http.StatusBadRequest,
			wantMsg:    `field "x" bad`,
		},
		{
			name: "from decode.Unmarshal",
			write: func(w http.ResponseWriter) {
				httpx.WriteRequestError(w, decode.Unmarshal([]byte(`{"a":1} x`), &struct{}{}))
			},
			wantStatus: http.StatusBadRequest,
			wantMsg:    "request body holds data after the JSON value",
		},
		{
			name:       "plain error is a 400",
			write:      func(w http.ResponseWriter) { httpx.WriteRequestError(w, errors.New("plain problem")) },
			wantStatus: http.StatusBadRequest,
			wantMsg:    "plain problem",
		},
		{
			name: "from ReadBody",
			write: func(w http.ResponseWriter) {
				r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789"))
				_, err := httpx.ReadBody(r, 4)
				httpx.WriteRequestError(w, err)
			},
			wantStatus: http.StatusRequestEntityTooLarge,
			wantMsg:    "request body is larger than 4 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.write(rec)
			checkErrorResponse(t, rec, tt.wantStatus, tt.wantMsg)
		})
	}
}

// checkErrorResponse asserts rec holds exactly {"error": msg}.
func checkErrorResponse(t *testing.T, rec *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status = %d, want %d", rec.Code, status)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", rec.Body, err)
	}
	want := map[string]any{"error": msg}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body = %v, want %v", body, want)
	}
}

func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	httpx.WriteJSON(rec, http.StatusCreated, map[string]int{"n": 1})
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"n":1}` {
		t.Errorf("WriteJSON = %d %q", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}

	// A value that cannot be encoded becomes a 500 error body.
	rec = httptest.NewRecorder()
	httpx.WriteJSON(rec, http.StatusOK, map[string]any{"f": func() {}})
	checkErrorResponse(t, rec, http.StatusInternalServerError, "could not encode the response")
}
