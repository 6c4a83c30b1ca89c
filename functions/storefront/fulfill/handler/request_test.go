package handler_test

import (
	"errors"
	"testing"

	"github.com/tollgate-dev/tollgate/functions/storefront/fulfill/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
)

// Whatever the body, DecodeFulfil either decodes a request within the
// limits or refuses with a *decode.Error; it never panics.
func FuzzDecodeFulfil(f *testing.F) {
	f.Add("my-store", []byte(`{"customer_email":"buyer@example.com","items":[{"sku":"WIN-11-PRO","quantity":1}],"external_reference":"p","currency":"gbp","total_minor":2999}`))
	f.Fuzz(func(t *testing.T, slug string, body []byte) {
		r, err := handler.DecodeFulfil(slug, body)
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("refusal %v is not a *decode.Error", err)
			}
			return
		}
		units := int64(0)
		for _, l := range r.Items {
			if l.Quantity < 1 {
				t.Fatalf("line %+v", l)
			}
			units += l.Quantity
		}
		if len(r.Items) == 0 || units > handler.MaxUnits || r.TotalMinor < 0 || r.ExternalReference == "" || len(r.Currency) != 3 {
			t.Fatalf("decoded out of bounds: %+v", r)
		}
	})
}
