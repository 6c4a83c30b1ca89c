package handler

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Limits of a fulfilment request.
const (
	BodyLimit     = 16 << 10 // bytes
	MaxLines      = 20
	MaxUnits      = 50 // keys per order, all lines together
	MaxTotalMinor = 1<<53 - 1
	maxQuoted     = 64
)

var fields = []string{"customer_email", "items", "external_reference", "currency", "total_minor"}

// DecodeFulfil decodes a fulfilment's body for store slug:
//
//	{"customer_email": "buyer@example.com", "items": [{"sku": "PRODUCT-SKU", "quantity": 1}],
//	 "external_reference": "your-payment-id", "currency": "GBP", "total_minor": 2999}
//
// external_reference (1-128 printable characters), items (1-20 lines of a
// sku and a quantity 1-50; at most 50 keys in all; lines of the same sku
// are merged), currency (ISO 4217, any case) and total_minor (an integer
// from 0 to 2^53-1) are required; customer_email is optional (an address
// such as a@b.example). Unknown fields are refused. Refusals are
// *decode.Error naming the field.
func DecodeFulfil(slug string, body []byte) (stores.FulfilRequest, error) {
	if err := stores.CheckSlugParam(slug); err != nil {
		return stores.FulfilRequest{}, err
	}
	var m map[string]json.RawMessage
	if err := decode.Unmarshal(body, &m); err != nil {
		return stores.FulfilRequest{}, err
	}
	if m == nil {
		return stores.FulfilRequest{}, decode.Errorf("request body must be a JSON object")
	}
	var unknown []string
	for k, v := range m {
		if !slices.Contains(fields, k) {
			unknown = append(unknown, k)
		}
		if decode.Null(v) {
			delete(m, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return stores.FulfilRequest{}, decode.Errorf("unknown field %q (a fulfilment has %s)", decode.Truncate(unknown[0], maxQuoted), strings.Join(fields, ", "))
	}
	r := stores.FulfilRequest{Store: slug}
	var err error
	if r.ExternalReference, err = stringField(m, "external_reference", true); err != nil {
		return stores.FulfilRequest{}, err
	}
	if err := decode.ID("external_reference", r.ExternalReference); err != nil {
		return stores.FulfilRequest{}, err
	}
	if r.CustomerEmail, err = stringField(m, "customer_email", false); err != nil {
		return stores.FulfilRequest{}, err
	}
	if r.CustomerEmail != "" {
		if err := validate.Email(r.CustomerEmail); err != nil {
			return stores.FulfilRequest{}, decode.Errorf("field %q %v", "customer_email", err)
		}
	}
	cur, err := stringField(m, "currency", true)
	if err != nil {
		return stores.FulfilRequest{}, err
	}
	if r.Currency, err = validate.ParseCurrency(cur); err != nil {
		return stores.FulfilRequest{}, decode.Errorf("field %q %v, got %q", "currency", err, decode.Truncate(cur, maxQuoted))
	}
	raw, ok := m["total_minor"]
	if !ok {
		return stores.FulfilRequest{}, decode.Errorf("missing field %q", "total_minor")
	}
	if r.TotalMinor, err = intField("total_minor", raw); err != nil {
		return stores.FulfilRequest{}, err
	}
	if r.TotalMinor < 0 || r.TotalMinor > MaxTotalMinor {
		return stores.FulfilRequest{}, decode.Errorf("field %q must be from 0 to %d, got %d", "total_minor", int64(MaxTotalMinor), r.TotalMinor)
	}
	if r.Items, err = decodeItems(m["items"]); err != nil {
		return stores.FulfilRequest{}, err
	}
	return r, nil
}

func decodeItems(raw json.RawMessage) ([]stores.Line, error) {
	if raw == nil {
		return nil, decode.Errorf("missing field %q", "items")
	}
	var lines []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &lines) != nil {
		return nil, decode.Errorf("field %q must be an array of {\"sku\", \"quantity\"}", "items")
	}
	if len(lines) == 0 || len(lines) > MaxLines {
		return nil, decode.Errorf("field %q must hold 1 to %d lines, got %d", "items", MaxLines, len(lines))
	}
	out := make([]stores.Line, 0, len(lines))
	var units int64
	for i, l := range lines {
		at := fmt.Sprintf("items[%d]", i)
		var m map[string]json.RawMessage
		if len(l) == 0 || l[0] != '{' || json.Unmarshal(l, &m) != nil {
			return nil, decode.Errorf("field %q must be an object {\"sku\", \"quantity\"}", at)
		}
		for k := range m {
			if k != "sku" && k != "quantity" {
				return nil, decode.Errorf("unknown field %q (a line has sku, quantity)", at+"."+decode.Truncate(k, maxQuoted))
			}
		}
		sku, err := stringField(m, at+".sku", true, "sku")
		if err != nil {
			return nil, err
		}
		if !stores.ValidSKU(sku) {
			return nil, decode.Errorf("field %q must be a SKU (letters, digits, '.', '_' or '-', 1-64), got %q", at+".sku", decode.Truncate(sku, maxQuoted))
		}
		qraw, ok := m["quantity"]
		if !ok || decode.Null(qraw) {
			return nil, decode.Errorf("missing field %q", at+".quantity")
		}
		q, err := intField(at+".quantity", qraw)
		if err != nil {
			return nil, err
		}
		if q < 1 || q > MaxUnits {
			return nil, decode.Errorf("field %q must be from 1 to %d, got %d", at+".quantity", MaxUnits, q)
		}
		units += q
		if units > MaxUnits {
			return nil, decode.Errorf("field %q asks for more than %d keys in all", "items", MaxUnits)
		}
		out = append(out, stores.Line{SKU: sku, Quantity: q})
	}
	return out, nil
}

// stringField reads field (named key in m, or the last part of field) as a
// JSON string.
func stringField(m map[string]json.RawMessage, field string, required bool, key ...string) (string, error) {
	k := field
	if len(key) > 0 {
		k = key[0]
	}
	raw, ok := m[k]
	if !ok || decode.Null(raw) {
		if required {
			return "", decode.Errorf("missing field %q", field)
		}
		return "", nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", decode.Errorf("field %q must be a string", field)
	}
	if required && s == "" {
		return "", decode.Errorf("field %q must not be empty", field)
	}
	return s, nil
}

// intField reads a JSON integer (not a string: this API is JSON-native).
func intField(field string, raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || raw[0] == '"' {
		return 0, decode.Errorf("field %q must be an integer", field)
	}
	n, err := validate.Integer(raw)
	if err != nil {
		return 0, decode.Errorf("field %q must be an integer, got %s", field, decode.Truncate(string(raw), maxQuoted))
	}
	return n, nil
}
