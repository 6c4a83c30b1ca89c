package handler_test

import (
	"errors"
	"testing"

	"github.com/tollgate-dev/tollgate/functions/storefront/checkoutsession/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
)

// FuzzDecodeSession: any body decodes or is refused with a *decode.Error,
// never a panic; a decoded request has a cart and a currency.
func FuzzDecodeSession(f *testing.F) {
	f.Add("my-store", []byte(`{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`))
	f.Add("my-store", []byte(`{"cart":{"A":1,"B":"2"},"currency":"gbp","locale":"en-GB","expires_at":"2026-03-02T12:00:00Z","metadata":{"external_reference":"r","return_url_success":"https://x.example/","return_url_cancel":null}}`))
	f.Add("my-store", []byte(`{"cart":{"A":1e3},"currency":1}`))
	f.Fuzz(func(t *testing.T, slug string, body []byte) {
		r, err := handler.DecodeSession(slug, body)
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("refusal %v is not a *decode.Error", err)
			}
			return
		}
		if r.Cart == nil || r.Currency == "" || r.Store != slug {
			t.Fatalf("decoded %+v", r)
		}
	})
}

func TestDecodeSession(t *testing.T) {
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"documented example", `{"cart":{"PRODUCT-SKU-1":1,"PRODUCT-SKU-2":2},"currency":"GBP","locale":"en","metadata":{"external_reference":"your-order-123","return_url_success":"https://your-site.com/success","return_url_cancel":"https://your-site.com/cancel"}}`, true},
		{"quantity as a string", `{"cart":{"A":"3"},"currency":"GBP"}`, true},
		{"nulls dropped", `{"cart":{"A":1},"currency":"GBP","locale":null,"metadata":null}`, true},
		{"cart an array", `{"cart":[1],"currency":"GBP"}`, false},
		{"quantity a fraction", `{"cart":{"A":1.5},"currency":"GBP"}`, false},
		{"currency a number", `{"cart":{"A":1},"currency":826}`, false},
		{"metadata a string", `{"cart":{"A":1},"currency":"GBP","metadata":"x"}`, false},
		{"expires_at a number", `{"cart":{"A":1},"currency":"GBP","expires_at":1}`, false},
		{"empty body", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := handler.DecodeSession("my-store", []byte(tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok %t", err, tt.ok)
			}
		})
	}
}
