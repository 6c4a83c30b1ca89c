package handler_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/openapi"
)

// The contract is served as written (YAML) and as JSON, cacheable, with an
// ETag that answers 304; through the function as the router mounts it, so
// the contract check covers these answers too.
func TestServesTheContract(t *testing.T) {
	e := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{})
	router := e.Router(t)
	get := func(path, ifNoneMatch string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, req)
		return rec
	}
	asJSON, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, contentType string
		body              []byte
	}{
		{"/openapi.yaml", "application/yaml; charset=utf-8", openapi.YAML()},
		{"/openapi.json", "application/json", asJSON},
	}
	etags := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := get(tt.path, "")
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != tt.contentType || rec.Body.String() != string(tt.body) {
				t.Fatalf("%d %s, %d bytes; want 200 %s with the document", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len(), tt.contentType)
			}
			if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
				t.Errorf("Cache-Control %q", cc)
			}
			etag := rec.Header().Get("ETag")
			if !strings.HasPrefix(etag, `"`) || etags[etag] {
				t.Fatalf("ETag %q: want a quoted tag per rendering", etag)
			}
			etags[etag] = true
			for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
				if rec := get(tt.path, inm); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
					t.Errorf("If-None-Match %s: %d with %d bytes, want 304 and no body", inm, rec.Code, rec.Body.Len())
				}
			}
			if rec := get(tt.path, `"stale"`); rec.Code != http.StatusOK {
				t.Errorf("a stale ETag: %d, want 200", rec.Code)
			}
		})
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(asJSON, &doc); err != nil || doc.OpenAPI != "3.1.0" || doc.Paths["/purchase/{playerId}"] == nil {
		t.Fatalf("JSON rendering: openapi %q, %d paths, %v", doc.OpenAPI, len(doc.Paths), err)
	}
}
