package handler

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

func TestDecodeRequest(t *testing.T) {
	lines := func(n int) string {
		return `{"transactionId":"a","items":[` + strings.TrimSuffix(strings.Repeat(`{"id":"b","quantity":1},`, n), ",") + `]}`
	}
	cases := []struct {
		name  string
		body  string
		want  string // fmt of the items, or the error substring
		isErr bool
	}{
		{"Stash's example", `{"transactionId":"abc123","items":[{"id":"sword_123","quantity":1},{"id":"shield_1234","quantity":1}]}`, "[{shield_1234 1} {sword_123 1}]", false},
		{"unknown fields ignored", `{"transactionId":"a","extra":{"x":[1]},"items":[{"id":"b","quantity":2,"price":5}]}`, "[{b 2}]", false},
		{"duplicates merged", `{"transactionId":"a","items":[{"id":"b","quantity":2},{"id":"b","quantity":3}]}`, "[{b 5}]", false},
		{"whitespace", " \n{\"transactionId\" : \"a\" , \"items\" : [ {\"id\":\"b\",\"quantity\": 1 } ] }\n", "[{b 1}]", false},
		{"unicode ids", `{"transactionId":"tx-ü","items":[{"id":"épée","quantity":1}]}`, "[{épée 1}]", false},
		{"max quantity", `{"transactionId":"a","items":[{"id":"b","quantity":10000}]}`, "[{b 10000}]", false},
		{"exponent quantity", `{"transactionId":"a","items":[{"id":"b","quantity":1e2}]}`, "whole number", true},
		{"bool quantity", `{"transactionId":"a","items":[{"id":"b","quantity":true}]}`, "must be an integer", true},
		{"null item", `{"transactionId":"a","items":[null]}`, "items[0] must be an object", true},
		{"second item bad", `{"transactionId":"a","items":[{"id":"b","quantity":1},{"id":"","quantity":1}]}`, `"items[1].id" must not be empty`, true},
		{"fraction quantity", `{"transactionId":"a","items":[{"id":"b","quantity":1.5}]}`, `"items[0].quantity" must be a whole number, got 1.5`, true},
		{"fraction below range", `{"transactionId":"a","items":[{"id":"b","quantity":0.5}]}`, `"items[0].quantity" must be an integer from 1 to 10000, got 0.5`, true},
		{"negative zero quantity", `{"transactionId":"a","items":[{"id":"b","quantity":-0}]}`, `"items[0].quantity" must be from 1 to 10000, got 0`, true},
		{"quantity over the limit", `{"transactionId":"a","items":[{"id":"b","quantity":10001}]}`, `"items[0].quantity" must be from 1 to 10000, got 10001`, true},
		// "whole number" only when the value is in the range and only its
		// writing is wrong; otherwise the range is what the caller needs.
		{"whole value with exponent", `{"transactionId":"a","items":[{"id":"b","quantity":1e2}]}`, `field "items[0].quantity" must be a whole number, got 1e2`, true},
		{"whole value with fraction", `{"transactionId":"a","items":[{"id":"b","quantity":2.0}]}`, `field "items[0].quantity" must be a whole number, got 2.0`, true},
		{"fraction just below the limit", `{"transactionId":"a","items":[{"id":"b","quantity":9999.5}]}`, `field "items[0].quantity" must be a whole number, got 9999.5`, true},
		{"limit with exponent", `{"transactionId":"a","items":[{"id":"b","quantity":1e4}]}`, `field "items[0].quantity" must be a whole number, got 1e4`, true},
		{"fraction just above the limit", `{"transactionId":"a","items":[{"id":"b","quantity":10000.5}]}`, `field "items[0].quantity" must be an integer from 1 to 10000, got 10000.5`, true},
		{"whole value above the limit", `{"transactionId":"a","items":[{"id":"b","quantity":1e5}]}`, `field "items[0].quantity" must be an integer from 1 to 10000, got 1e5`, true},
		{"zero with fraction", `{"transactionId":"a","items":[{"id":"b","quantity":0.0}]}`, `field "items[0].quantity" must be an integer from 1 to 10000, got 0.0`, true},
		{"negative fraction", `{"transactionId":"a","items":[{"id":"b","quantity":-1.5}]}`, `field "items[0].quantity" must be an integer from 1 to 10000, got -1.5`, true},
		{"beyond int64", `{"transactionId":"a","items":[{"id":"b","quantity":99999999999999999999}]}`, `field "items[0].quantity" must be an integer from 1 to 10000, got 99999999999999999999`, true},
		{"beyond float64", `{"transactionId":"a","items":[{"id":"b","quantity":1e400}]}`, `field "items[0].quantity" must be an integer from 1 to 10000, got 1e400`, true},
		{"string quantity", `{"transactionId":"a","items":[{"id":"b","quantity":"1"}]}`, `field "items[0].quantity" must be an integer`, true},
		{"missing quantity", `{"transactionId":"a","items":[{"id":"b"}]}`, `missing field "items[0].quantity"`, true},
		{"missing items", `{"transactionId":"a"}`, `missing field "items"`, true},
		{"missing transactionId", `{"items":[{"id":"b","quantity":1}]}`, `missing field "transactionId"`, true},
		{"merged total over the limit", `{"transactionId":"a","items":[{"id":"b","quantity":6000},{"id":"b","quantity":5000}]}`, `item "b": total quantity 11000 exceeds 10000`, true},
		// MaxItems counts lines as sent, not products after merging.
		{"50 lines of one product", lines(MaxItems), "[{b 50}]", false},
		{"51 lines of one product", lines(MaxItems + 1), `"items" holds 51 items, at most 50 are allowed`, true},
		{"invalid utf8", "{\"transactionId\":\"a\xff\",\"items\":[{\"id\":\"b\",\"quantity\":1}]}", "not valid UTF-8", true},
		// Escaped lone surrogates decode to U+FFFD: "sur\ud800" and
		// "sur\udfff" would be one transaction.
		{"lone high surrogate escape", `{"transactionId":"sur\ud800","items":[{"id":"b","quantity":1}]}`, `field "transactionId" holds a replacement character (U+FFFD)`, true},
		{"lone low surrogate escape", `{"transactionId":"sur\udfff","items":[{"id":"b","quantity":1}]}`, `field "transactionId" holds a replacement character (U+FFFD)`, true},
		{"lone surrogate escape in an item id", `{"transactionId":"a","items":[{"id":"b\ud800","quantity":1}]}`, `field "items[0].id" holds a replacement character (U+FFFD)`, true},
		{"escaped surrogate pair", `{"transactionId":"k\ud83d\udd11","items":[{"id":"b","quantity":1}]}`, "[{b 1}]", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := DecodeRequest([]byte(c.body))
			if c.isErr {
				var de *decode.Error
				if !errors.As(err, &de) || !strings.Contains(de.Message, c.want) {
					t.Fatalf("err = %v, want a decode error containing %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmtItems(req); got != c.want {
				t.Fatalf("items = %s, want %s", got, c.want)
			}
		})
	}
}

func fmtItems(r Request) string {
	var b strings.Builder
	b.WriteString("[")
	for i, it := range r.Items {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString("{" + it.ProductID + " " + strconv.FormatInt(it.Quantity, 10) + "}")
	}
	return b.String() + "]"
}

// FuzzDecodeRequest: any body either decodes into a request that satisfies
// every limit, or is refused with a *decode.Error (a 400); never a panic.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"transactionId":"abc123","items":[{"id":"sword_123","quantity":1},{"id":"shield_1234","quantity":1}]}`,
		`{"transactionId":"a","items":[{"id":"b","quantity":2},{"id":"b","quantity":3}]}`,
		`{"transactionId":1,"items":{}}`,
		`{"items":[{"quantity":"1"}]}`,
		`[]`, `null`, `{}`, `{"transactionId":"a","items":[{"id":"b","quantity":1e400}]}`,
		`{"transactionId":"sur\ud800","items":[{"id":"b\udfff","quantity":1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body)
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) || de.Message == "" {
				t.Fatalf("refusal %v (%T) is not a *decode.Error with a message", err, err)
			}
			return
		}
		if validate.ID(req.TransactionID) != nil || len(req.Items) == 0 || len(req.Items) > MaxItems {
			t.Fatalf("accepted an invalid request: %+v", req)
		}
		for i, it := range req.Items {
			if validate.ID(it.ProductID) != nil || it.Quantity < 1 || it.Quantity > MaxQuantity {
				t.Fatalf("accepted an invalid item: %+v", it)
			}
			if i > 0 && req.Items[i-1].ProductID >= it.ProductID {
				t.Fatalf("items not normalized: %+v", req.Items)
			}
		}
	})
}
