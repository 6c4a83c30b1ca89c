package httpx_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/logtest"

	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
)

// logLine is one decoded JSON log record.
type logLine struct {
	raw    string
	fields map[string]any
}

func newLogger() (*slog.Logger, *logtest.Buffer) {
	buf := &logtest.Buffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func logLines(t *testing.T, buf *logtest.Buffer) []logLine {
	t.Helper()
	var out []logLine
	for _, raw := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		if raw == "" {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal([]byte(raw), &fields); err != nil {
			t.Fatalf("log line %q is not JSON: %v", raw, err)
		}
		out = append(out, logLine{raw: raw, fields: fields})
	}
	return out
}

// requestLines returns the access-log lines (msg "request").
func requestLines(lines []logLine) []logLine {
	var out []logLine
	for _, l := range lines {
		if l.fields["msg"] == "request" {
			out = append(out, l)
		}
	}
	return out
}

const secretHeaderValue = "sk_live_SECRET-header-value-42"

func newObservedRequest(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("x-api-key", secretHeaderValue)
	r.Header.Set("Authorization", "Bearer "+secretHeaderValue)
	r.Header.Set("Content-Type", "application/json")
	return r
}

func TestObserveLogsOneLinePerRequest(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		target    string
		handler   http.HandlerFunc
		wantCode  int
		wantLevel string
		wantBytes int
	}{
		{
			name: "200 with body", method: http.MethodGet, target: "/api/v1/players/p1/inventory?x=1",
			handler: func(w http.ResponseWriter, r *http.Request) {
				httpx.WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
			},
			wantCode: http.StatusOK, wantLevel: "INFO", wantBytes: len(`{"ok":"yes"}`),
		},
		{
			name: "implicit 200 via Write", method: http.MethodPost, target: "/purchase/p1",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "hello")
			},
			wantCode: http.StatusOK, wantLevel: "INFO", wantBytes: 5,
		},
		{
			name: "201", method: http.MethodPut, target: "/things/1",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusCreated)
			},
			wantCode: http.StatusCreated, wantLevel: "INFO", wantBytes: 0,
		},
		{
			name: "first WriteHeader wins", method: http.MethodGet, target: "/twice",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusAccepted)
				w.WriteHeader(http.StatusInternalServerError) // superfluous, ignored by net/http
			},
			wantCode: http.StatusAccepted, wantLevel: "INFO", wantBytes: 0,
		},
		{
			name: "400 is a warning", method: http.MethodPost, target: "/purchase/p1",
			handler: func(w http.ResponseWriter, r *http.Request) {
				httpx.WriteRequestError(w, httpx.BadRequest("bad"))
			},
			wantCode: http.StatusBadRequest, wantLevel: "WARN", wantBytes: len(`{"error":"bad"}`),
		},
		{
			name: "401 echoing nothing of the key", method: http.MethodPost, target: "/purchase/p1",
			handler: func(w http.ResponseWriter, r *http.Request) {
				httpx.WriteError(w, http.StatusUnauthorized, "unauthorized")
			},
			wantCode: http.StatusUnauthorized, wantLevel: "WARN", wantBytes: len(`{"error":"unauthorized"}`),
		},
		{
			name: "503 is an error", method: http.MethodGet, target: "/down",
			handler: func(w http.ResponseWriter, r *http.Request) {
				httpx.WriteError(w, http.StatusServiceUnavailable, "try later")
			},
			wantCode: http.StatusServiceUnavailable, wantLevel: "ERROR", wantBytes: len(`{"error":"try later"}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, buf := newLogger()
			h := httpx.Observe(logger, "TestFunction", tt.handler)
			rec := httptest.NewRecorder()
			req := newObservedRequest(tt.method, tt.target, `{"body":"`+secretHeaderValue+`"}`)
			h.ServeHTTP(rec, req)

			if rec.Code != tt.wantCode {
				t.Errorf("response status = %d, want %d", rec.Code, tt.wantCode)
			}
			lines := logLines(t, buf)
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want exactly 1:\n%s", len(lines), buf)
			}
			l := lines[0]
			checkRequestLine(t, l, "TestFunction", tt.method, strings.SplitN(tt.target, "?", 2)[0], tt.wantCode, tt.wantLevel)
			if got, _ := l.fields["bytes"].(float64); int(got) != tt.wantBytes {
				t.Errorf("bytes = %v, want %d", l.fields["bytes"], tt.wantBytes)
			}
			if _, ok := l.fields["duration"]; !ok {
				t.Errorf("log line has no duration: %s", l.raw)
			}
			if strings.Contains(l.raw, "x=1") {
				t.Errorf("log line holds the query string: %s", l.raw)
			}
		})
	}
}

func checkRequestLine(t *testing.T, l logLine, function, method, path string, status int, level string) {
	t.Helper()
	want := map[string]any{
		"msg":      "request",
		"level":    level,
		"function": function,
		"method":   method,
		"path":     path,
		"status":   float64(status),
	}
	for k, v := range want {
		if l.fields[k] != v {
			t.Errorf("%s = %v, want %v in %s", k, l.fields[k], v, l.raw)
		}
	}
	for _, leak := range []string{secretHeaderValue, "SECRET", "x-api-key", "X-Api-Key", "Bearer"} {
		if strings.Contains(l.raw, leak) {
			t.Errorf("log line holds %q from the request headers or body: %s", leak, l.raw)
		}
	}
}

// A handler that sends nothing answers 200 (net/http writes it); the log
// must agree with what the client got.
func TestObserveHandlerWritingNothing(t *testing.T) {
	logger, buf := newLogger()
	h := httpx.Observe(logger, "fn", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/empty")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("client got %d, want 200", resp.StatusCode)
	}
	lines := logLines(t, buf)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), buf)
	}
	if got := lines[0].fields["status"]; got != float64(http.StatusOK) {
		t.Errorf("client got 200 but the log line says status %v: %s", got, lines[0].raw)
	}
}

func TestObservePanic(t *testing.T) {
	tests := []struct {
		name  string
		panic any
	}{
		{"string", "boom"},
		{"error", io.ErrUnexpectedEOF},
		{"struct", struct{ N int }{7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, buf := newLogger()
			h := httpx.Observe(logger, "PanicFunction", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				panic(tt.panic)
			}))
			rec := httptest.NewRecorder()
			req := newObservedRequest(http.MethodPost, "/purchase/p1", `{}`)

			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("panic escaped Observe: %v", p)
					}
				}()
				h.ServeHTTP(rec, req)
			}()

			checkErrorResponse(t, rec, http.StatusInternalServerError, "internal error")

			lines := logLines(t, buf)
			var with500 []logLine
			for _, l := range lines {
				if strings.Contains(l.raw, `"status":500`) {
					with500 = append(with500, l)
				}
				if strings.Contains(l.raw, secretHeaderValue) {
					t.Errorf("log line holds a header value: %s", l.raw)
				}
			}
			if len(with500) != 1 {
				t.Fatalf("%d log lines with \"status\":500, want 1:\n%s", len(with500), buf)
			}
			checkRequestLine(t, with500[0], "PanicFunction", http.MethodPost, "/purchase/p1", http.StatusInternalServerError, "ERROR")
			if reqs := requestLines(lines); len(reqs) != 1 {
				t.Errorf("%d access-log lines, want 1:\n%s", len(reqs), buf)
			}
			// The panic itself is reported at ERROR too (its own line).
			for _, l := range lines {
				if l.fields["msg"] != "request" && l.fields["level"] != "ERROR" {
					t.Errorf("non-access line not at ERROR: %s", l.raw)
				}
			}
			if len(lines) != 1 || lines[0].fields["panic"] == nil {
				t.Errorf("a panic leaves %d log lines, want one carrying the panic:\n%s", len(lines), buf)
			}
		})
	}
}

// A panic after the response has started cannot change the status; the
// request is still logged once and the process survives.
func TestObservePanicAfterWrite(t *testing.T) {
	logger, buf := newLogger()
	h := httpx.Observe(logger, "fn", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]bool{"partial": true})
		panic("late")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newObservedRequest(http.MethodGet, "/late", ""))
	if rec.Code != http.StatusOK || rec.Body.String() != `{"partial":true}` {
		t.Errorf("response = %d %q, want the part written before the panic", rec.Code, rec.Body)
	}
	reqs := requestLines(logLines(t, buf))
	if len(reqs) != 1 {
		t.Fatalf("%d access-log lines, want 1:\n%s", len(reqs), buf)
	}
	if reqs[0].fields["status"] != float64(http.StatusOK) {
		t.Errorf("status = %v, want 200 (what the client got)", reqs[0].fields["status"])
	}
	if !strings.Contains(buf.String(), `"panic":"late"`) {
		t.Errorf("the panic was not logged:\n%s", buf)
	}
}

func TestObserveConcurrentRequests(t *testing.T) {
	logger, buf := newLogger()
	h := httpx.Observe(logger, "fn", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		httpx.WriteJSON(w, http.StatusOK, struct{}{})
	}))
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			path := "/ok"
			if i%2 == 0 {
				path = "/panic"
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newObservedRequest(http.MethodGet, path, ""))
		})
	}
	wg.Wait()
	reqs := requestLines(logLines(t, buf))
	if len(reqs) != n {
		t.Errorf("%d access-log lines for %d requests", len(reqs), n)
	}
	for _, l := range reqs {
		want := float64(http.StatusOK)
		if l.fields["path"] == "/panic" {
			want = http.StatusInternalServerError
		}
		if l.fields["status"] != want {
			t.Errorf("status %v for path %v", l.fields["status"], l.fields["path"])
		}
	}
}
