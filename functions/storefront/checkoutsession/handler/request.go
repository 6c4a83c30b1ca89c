package handler

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
)

// BodyLimit bounds a session request.
const BodyLimit = 16 << 10

const maxQuoted = 64

var (
	fields         = []string{"cart", "currency", "locale", "metadata", "expires_at"}
	metadataFields = []string{"external_reference", "return_url_success", "return_url_cancel"}
)

// DecodeSession decodes a checkout session's body for store slug:
//
//	{"cart": {"PRODUCT-SKU-1": 1}, "currency": "GBP", "locale": "en",
//	 "metadata": {"external_reference": "...", "return_url_success": "https://...", "return_url_cancel": "https://..."},
//	 "expires_at": "2026-03-02T12:00:00Z"}
//
// cart (SKU -> integer quantity) and currency are required; the rest is
// optional. Unknown fields are refused. The checkout validates the values
// (checkout.CreateSession); refusals here are *decode.Error naming the
// field.
func DecodeSession(slug string, body []byte) (checkout.SessionRequest, error) {
	r := checkout.SessionRequest{Store: slug}
	m, err := object(body, "request body", fields)
	if err != nil {
		return r, err
	}
	raw, ok := m["cart"]
	if !ok {
		return r, decode.Errorf("missing field %q", "cart")
	}
	cart, err := object(raw, "cart", nil)
	if err != nil {
		return r, err
	}
	r.Cart = make(map[string]int64, len(cart))
	keys := make([]string, 0, len(cart))
	for k := range cart {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, sku := range keys {
		var n decode.Int64
		if err := json.Unmarshal(cart[sku], &n); err != nil {
			return r, decode.Errorf("field %q must be an integer quantity", "cart."+decode.Truncate(sku, maxQuoted))
		}
		q, err := n.Value("cart." + decode.Truncate(sku, maxQuoted))
		if err != nil {
			return r, err
		}
		r.Cart[sku] = q
	}
	if r.Currency, err = str(m, "currency", "currency", true); err != nil {
		return r, err
	}
	if r.Currency == "" {
		return r, decode.Errorf("field %q must be an ISO 4217 currency code such as GBP", "currency")
	}
	if r.Locale, err = str(m, "locale", "locale", false); err != nil {
		return r, err
	}
	if raw, ok := m["expires_at"]; ok {
		s, err := str(m, "expires_at", "expires_at", false)
		if err != nil {
			return r, err
		}
		t, perr := time.Parse(time.RFC3339, s)
		if perr != nil || raw == nil {
			return r, decode.Errorf("field %q must be an RFC 3339 time such as 2026-03-02T12:00:00Z", "expires_at")
		}
		r.ExpiresAt = t
	}
	if raw, ok := m["metadata"]; ok {
		md, err := object(raw, "metadata", metadataFields)
		if err != nil {
			return r, err
		}
		for _, f := range []struct {
			name string
			dst  *string
		}{{"external_reference", &r.ExternalReference}, {"return_url_success", &r.ReturnURLSuccess}, {"return_url_cancel", &r.ReturnURLCancel}} {
			if *f.dst, err = str(md, f.name, "metadata."+f.name, false); err != nil {
				return r, err
			}
		}
	}
	return r, nil
}

// object reads a JSON object, dropping null members; allowed (nil: any)
// names its fields.
func object(raw []byte, name string, allowed []string) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, decode.Errorf("%s must be a JSON object", quoted(name))
	}
	var m map[string]json.RawMessage
	if err := decode.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	var unknown []string
	for k, v := range m {
		if allowed != nil && !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
		if decode.Null(v) {
			delete(m, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, decode.Errorf("unknown field %q in %s (it has %s)", decode.Truncate(unknown[0], maxQuoted), name, strings.Join(allowed, ", "))
	}
	return m, nil
}

func quoted(name string) string {
	if name == "request body" {
		return name
	}
	return "field \"" + name + "\""
}

func str(m map[string]json.RawMessage, key, path string, required bool) (string, error) {
	raw, ok := m[key]
	if !ok {
		if required {
			return "", decode.Errorf("missing field %q", path)
		}
		return "", nil
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", decode.Errorf("field %q must be a string", path)
	}
	if len(s) > 2048 {
		return "", decode.Errorf("field %q is longer than 2048 bytes", path)
	}
	return s, nil
}
