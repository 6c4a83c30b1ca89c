// Package handler serves Tollgate's API contract: GET /openapi.yaml and
// GET /openapi.json (shared/platform/openapi), public and cacheable, so a merchant or
// studio can generate a client from the deployed stack itself.
package handler

import (
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/openapi"
)

// document is one rendering of the contract.
type document struct {
	body        []byte
	contentType string
	etag        string
}

// New builds the handler; the JSON rendering is made once, here.
func New(deps.Deps) (http.Handler, error) {
	asJSON, err := openapi.JSON()
	if err != nil {
		return nil, err
	}
	docs := map[string]document{
		"/openapi.yaml": newDocument(openapi.YAML(), "application/yaml; charset=utf-8"),
		"/openapi.json": newDocument(asJSON, "application/json"),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, ok := docs[r.URL.Path]
		if !ok {
			httpx.WriteJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
			return
		}
		h := w.Header()
		h.Set("ETag", doc.etag)
		h.Set("Cache-Control", "public, max-age=300")
		if httpx.NoneMatch(r.Header.Get("If-None-Match"), doc.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", doc.contentType)
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(doc.body)
		}
	}), nil
}

func newDocument(body []byte, contentType string) document {
	return document{body: body, contentType: contentType, etag: httpx.ETag(body)}
}
