package handler_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
)

// BenchmarkCatalogWarm measures a warm catalog request without a player
// (no DynamoDB call): signature check, query decoding, building and
// encoding the answer. Informational (make bench); nothing asserts speed.
func BenchmarkCatalogWarm(b *testing.B) {
	e := newEnv(b, ddbtest.Backend{Name: "minidyn"}, options{})
	header := auth.SignStashV1([]byte(egressKey), "shop-1", e.clock.Now(), nil)
	e.tr.Reset()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/catalog?region=DE&language=de&platform=CATALOG_PLATFORM_WEBSTORE", nil)
		req.Header.Set(auth.HeaderStashSignature, header)
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	if calls := e.tr.Calls(); len(calls) != 0 {
		b.Fatalf("warm requests made DynamoDB calls %v", calls)
	}
}
