package stashapi

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/httpx"
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
// purchase events, into their data) or is refused with a 400; never a panic.
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
			requireBadRequest(t, err)
			return
		}
		if ev.Type == "" {
			t.Fatal("accepted an event without a type")
		}
		switch ev.Type {
		case EventPurchaseSucceeded:
			p, err := DecodePurchaseSucceeded(ev.Data)
			if err != nil {
				requireBadRequest(t, err)
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
				requireBadRequest(t, err)
				return
			}
			if r.OrderID == "" || (!r.Full && len(r.Items) == 0) {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

func requireBadRequest(t *testing.T, err error) {
	t.Helper()
	var re *httpx.RequestError
	if !errors.As(err, &re) || re.Status != http.StatusBadRequest || re.Message == "" {
		t.Fatalf("refusal %v is not a 400 RequestError", err)
	}
}
