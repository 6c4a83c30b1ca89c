package stashapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
)

func TestDecodeWebhookShapes(t *testing.T) {
	data := `{"orderId":"o1","userId":"u1","currency":"eur","items":[{"id":"gem","quantity":"2","price":"1.99"},{"id":"coin","quantity":1,"price":99}],"tax":"19","total":218,"emailMarketingOptIn":true}`
	cases := []struct {
		name, body, typ, env string
		version              int
	}{
		{"eventData", `{"type":"PURCHASE_SUCCEEDED","environment":"TEST","eventData":` + data + `}`, EventPurchaseSucceeded, "test", 1},
		{"named after the event", `{"type":"PURCHASE_SUCCEEDED","environment":"live","purchaseSucceeded":` + data + `}`, EventPurchaseSucceeded, "live", 1},
		{"v2 data", `{"type":"subscription.created","data":{"id":"s"}}`, "subscription.created", "", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := DecodeWebhook([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != c.typ || ev.Environment != c.env || ev.Version != c.version || ev.Data == nil {
				t.Fatalf("%+v", ev)
			}
			if ev.Type != EventPurchaseSucceeded {
				return
			}
			p, err := DecodePurchaseSucceeded(ev.Data)
			if err != nil {
				t.Fatal(err)
			}
			// Amounts as strings or numbers; a decimal string is recorded as 0, never refused.
			if p.OrderID != "o1" || p.UserID != "u1" || p.Currency != "EUR" || p.Tax != 19 || p.Total != 218 || !p.EmailMarketingOptIn ||
				len(p.Items) != 2 || p.Items[0].Quantity != 2 || p.Items[0].Price != 0 || p.Items[1].Price != 99 {
				t.Fatalf("%+v", p)
			}
		})
	}
}

// Every refusal is a *decode.Error naming the field. The type is checked
// as an id: at most 128 characters (not bytes), all printable.
func TestDecodeWebhookRefusals(t *testing.T) {
	typ := func(v string) string { return `{"type":"` + v + `","data":{}}` }
	envelope := func(b []byte) error { _, err := DecodeWebhook(b); return err }
	succeeded := func(b []byte) error { _, err := DecodePurchaseSucceeded(b); return err }
	refunded := func(b []byte) error { _, err := DecodePurchaseRefunded(b); return err }
	const item = `"orderId":"o","userId":"u","currency":"USD"`
	tests := []struct {
		name   string
		decode func([]byte) error
		body   string
		want   string // the exact message; "": accepted
	}{
		{"type of 128 characters", envelope, typ(strings.Repeat("A", 128)), ""},
		{"type of 128 two-byte characters", envelope, typ(strings.Repeat("é", 128)), ""},
		{"type missing", envelope, `{"environment":"test"}`, `missing field "type"`},
		{"type null", envelope, `{"type":null}`, `missing field "type"`},
		{"type not a string", envelope, `{"type":7}`, `field "type" must be a string`},
		{"type too long", envelope, typ(strings.Repeat("A", 129)), `field "type" is longer than 128 characters`},
		{"type too long in characters", envelope, typ(strings.Repeat("é", 129)), `field "type" is longer than 128 characters`},
		{"type with a control character", envelope, typ(`A\u0000B`), `field "type" holds a control or non-printable character`},
		{"environment not a string", envelope, `{"type":"X","environment":1}`, `field "environment" must be a string`},
		{"data not an object", envelope, `{"type":"PURCHASE_SUCCEEDED","eventData":[]}`, "the event data of PURCHASE_SUCCEEDED must be an object"},
		{"not an object", envelope, `[]`, "request body must be an object, got array"},
		{"no data", func([]byte) error { _, err := DecodePurchaseSucceeded(nil); return err }, ``, "PURCHASE_SUCCEEDED carries no event data"},
		{"no user", succeeded, `{"orderId":"o","currency":"USD","items":[{"id":"g","quantity":1}]}`, `missing field "userId"`},
		{"no items", succeeded, `{` + item + `}`, `field "items" must hold at least one item`},
		{"item without id", succeeded, `{` + item + `,"items":[{"quantity":1}]}`, `missing field "items[0].id"`},
		{"item id not printable", succeeded, `{` + item + `,"items":[{"id":"g","quantity":1},{"id":"a\tb","quantity":1}]}`, `field "items[1].id" holds a control or non-printable character`},
		{"item quantity 0", succeeded, `{` + item + `,"items":[{"id":"g","quantity":0}]}`, `field "items[0].quantity" must be from 1 to 10000, got 0`},
		{"item quantity missing", succeeded, `{` + item + `,"items":[{"id":"g"}]}`, `missing field "items[0].quantity"`},
		{"item quantity not an integer", succeeded, `{` + item + `,"items":[{"id":"g","quantity":"x"}]}`, `field "items[0].quantity" must be an integer, got "x"`},
		{"too many items", succeeded, `{` + item + `,"items":[` + strings.Repeat(`{"id":"g","quantity":1},`, MaxLines) + `{"id":"g","quantity":1}]}`, `field "items" holds 21 items, at most 20 are allowed`},
		{"timeMillis not an integer", succeeded, `{` + item + `,"items":[{"id":"g","quantity":1}],"timeMillis":1.5}`, `field "timeMillis" must be an integer, got 1.5`},
		{"refund id too long", refunded, `{"orderId":"o","refundId":"` + strings.Repeat("r", 129) + `"}`, `field "refundId" is longer than 128 characters`},
		{"refund without order", refunded, `{"refundId":"r"}`, `missing field "orderId"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode([]byte(tt.body))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var de *decode.Error
			if !errors.As(err, &de) || de.Message != tt.want {
				t.Fatalf("err = %v, want a decode error %q", err, tt.want)
			}
		})
	}
}

func TestDecodeRefund(t *testing.T) {
	full, err := DecodePurchaseRefunded([]byte(`{"orderId":"o1","refundId":"r1"}`))
	if err != nil || !full.Full || full.RefundID != "r1" {
		t.Fatalf("%+v %v", full, err)
	}
	part, err := DecodePurchaseRefunded([]byte(`{"order_id":"o1","items":[{"id":"gem","quantity":"1"}],"amount":"199"}`))
	if err != nil || part.Full || len(part.Items) != 1 || part.Amount != 199 {
		t.Fatalf("%+v %v", part, err)
	}
	flagged, err := DecodePurchaseRefunded([]byte(`{"orderId":"o1","items":[{"id":"gem","quantity":1}],"isFullRefund":true}`))
	if err != nil || !flagged.Full {
		t.Fatalf("%+v %v", flagged, err)
	}
}

// FuzzDecodeWebhook: any body decodes into an envelope (and, for the two
// purchase events, into their data) or is refused with a *decode.Error (a
// 400); never a panic.
func FuzzDecodeWebhook(f *testing.F) {
	for _, s := range []string{
		`{"type":"PURCHASE_SUCCEEDED","environment":"test","eventData":{"orderId":"o","userId":"u","currency":"usd","items":[{"id":"g","quantity":1,"price":"1"}]}}`,
		`{"type":"PURCHASE_REFUNDED","purchaseRefunded":{"orderId":"o","items":[{"id":"g","quantity":"2"}]}}`,
		`{"type":"subscription.created","data":{"id":"x"}}`,
		`{"type":"PURCHASE_SUCCEEDED","eventData":[]}`, `{"type":7}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := DecodeWebhook(body)
		if err != nil {
			requireDecodeError(t, err)
			return
		}
		if ev.Type == "" {
			t.Fatal("accepted an event without a type")
		}
		switch ev.Type {
		case EventPurchaseSucceeded:
			p, err := DecodePurchaseSucceeded(ev.Data)
			if err != nil {
				requireDecodeError(t, err)
				return
			}
			if p.OrderID == "" || p.UserID == "" || len(p.Items) == 0 || len(p.Currency) != 3 || strings.ToUpper(p.Currency) != p.Currency {
				t.Fatalf("accepted %+v", p)
			}
			for _, it := range p.Items {
				if it.ID == "" || it.Quantity < 1 || it.Quantity > MaxQuantity {
					t.Fatalf("accepted item %+v", it)
				}
			}
		case EventPurchaseRefunded:
			r, err := DecodePurchaseRefunded(ev.Data)
			if err != nil {
				requireDecodeError(t, err)
				return
			}
			if r.OrderID == "" || (!r.Full && len(r.Items) == 0) {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

// requireDecodeError fails unless err is a *decode.Error (answered 400)
// with a message.
func requireDecodeError(t *testing.T, err error) {
	t.Helper()
	var de *decode.Error
	if !errors.As(err, &de) || de.Message == "" {
		t.Fatalf("refusal %v (%T) is not a *decode.Error with a message", err, err)
	}
}
