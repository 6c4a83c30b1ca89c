package stashapi

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
)

// Webhook event types Tollgate acts on; every other type is acknowledged
// and recorded.
const (
	EventPurchaseSucceeded = "PURCHASE_SUCCEEDED"
	EventPurchaseRefunded  = "PURCHASE_REFUNDED"
)

// WebhookBodyLimit is the largest webhook body read.
const WebhookBodyLimit = 256 << 10

// WebhookEvent is a delivery's envelope. Stash's pages show two shapes for
// v1 events, {"type", "environment", "eventData": {...}} and the data under a
// key named after the event ({"type": "PURCHASE_SUCCEEDED",
// "purchaseSucceeded": {...}}); v2 events are {"type": "subscription.created",
// "data": {...}}. All three are accepted.
type WebhookEvent struct {
	Type        string
	Environment string          // lower case; "" when absent
	Version     int             // 1 or 2
	Data        json.RawMessage // the event's data; nil when the envelope carries none
}

// DecodeWebhook decodes a delivery's envelope. Refusals are *decode.Error
// values. The type is checked as an id (validate.ID): it is recorded with
// the delivery.
func DecodeWebhook(body []byte) (WebhookEvent, error) {
	var fields map[string]json.RawMessage
	if err := decode.Unmarshal(body, &fields); err != nil {
		return WebhookEvent{}, err
	}
	var ev WebhookEvent
	if err := stringField(fields, "type", &ev.Type); err != nil {
		return WebhookEvent{}, err
	}
	if ev.Type == "" {
		return WebhookEvent{}, decode.Errorf("missing field %q", "type")
	}
	if err := decode.ID("type", ev.Type); err != nil {
		return WebhookEvent{}, err
	}
	if err := stringField(fields, "environment", &ev.Environment); err != nil {
		return WebhookEvent{}, err
	}
	ev.Environment = strings.ToLower(ev.Environment)
	ev.Version = 1
	switch {
	case !decode.Null(fields["eventData"]):
		ev.Data = fields["eventData"]
	case !decode.Null(fields["event_data"]):
		ev.Data = fields["event_data"]
	case !decode.Null(fields[camelType(ev.Type)]):
		ev.Data = fields[camelType(ev.Type)]
	case !decode.Null(fields["data"]):
		ev.Data = fields["data"]
		if strings.Contains(ev.Type, ".") {
			ev.Version = 2
		}
	}
	if ev.Data != nil && !bytes.HasPrefix(bytes.TrimSpace(ev.Data), []byte("{")) {
		return WebhookEvent{}, decode.Errorf("the event data of %s must be an object", ev.Type)
	}
	return ev, nil
}

func stringField(fields map[string]json.RawMessage, name string, dst *string) error {
	raw := fields[name]
	if decode.Null(raw) {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return decode.Errorf("field %q must be a string", name)
	}
	return nil
}

// camelType turns PURCHASE_SUCCEEDED into purchaseSucceeded.
func camelType(t string) string {
	parts := strings.Split(strings.ToLower(t), "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// WebhookItem is an item line of a purchase event. Amounts are minor units.
type WebhookItem struct {
	ID       string
	Quantity int64
	Price    int64
}

// PurchaseSucceeded is PURCHASE_SUCCEEDED's data.
type PurchaseSucceeded struct {
	TimeMillis          int64
	OrderID             string
	CheckoutLinkID      string
	Currency            string // upper case
	UserID              string // the player
	Items               []WebhookItem
	Tax, Total          int64
	RegionCode          string
	Source              string // "StashPay" or "Cart"
	IPAddress           string
	EmailMarketingOptIn bool
	TaxDetails          json.RawMessage
}

// PurchaseRefunded is PURCHASE_REFUNDED's data: a full refund of the order
// when it lists no items (or says fullRefund), else a partial refund of the
// listed items.
type PurchaseRefunded struct {
	OrderID    string
	RefundID   string // "" when Stash sends none
	UserID     string
	Currency   string
	Items      []WebhookItem
	Full       bool
	Amount     int64
	TimeMillis int64
}

type wireWebhookItem struct {
	ID        string       `json:"id"`
	ProductID string       `json:"productId"`
	Quantity  decode.Int64 `json:"quantity"`
	Price     decode.Int64 `json:"price"`
}

type wirePurchaseEvent struct {
	TimeMillis           decode.Int64      `json:"timeMillis"`
	TimeMillisS          decode.Int64      `json:"time_millis"`
	OrderID              string            `json:"orderId"`
	OrderIDS             string            `json:"order_id"`
	CheckoutLinkID       string            `json:"checkoutLinkId"`
	CheckoutLinkIDS      string            `json:"checkout_link_id"`
	Currency             string            `json:"currency"`
	UserID               string            `json:"userId"`
	UserIDS              string            `json:"user_id"`
	Items                []wireWebhookItem `json:"items"`
	Tax                  decode.Int64      `json:"tax"`
	Total                decode.Int64      `json:"total"`
	Amount               decode.Int64      `json:"amount"`
	TaxDetails           json.RawMessage   `json:"taxDetails"`
	RegionCode           string            `json:"regionCode"`
	RegionCodeS          string            `json:"region_code"`
	Source               string            `json:"source"`
	IPAddress            string            `json:"ipAddress"`
	IPAddressS           string            `json:"ip_address"`
	EmailMarketingOptIn  *bool             `json:"emailMarketingOptIn"`
	EmailMarketingOptInS *bool             `json:"email_marketing_opt_in"`
	RefundID             string            `json:"refundId"`
	RefundIDS            string            `json:"refund_id"`
	FullRefund           *bool             `json:"fullRefund"`
	IsFullRefund         *bool             `json:"isFullRefund"`
}

func decodePurchaseEvent(data json.RawMessage, typ string) (wirePurchaseEvent, string, string, error) {
	var w wirePurchaseEvent
	if data == nil {
		return w, "", "", decode.Errorf("%s carries no event data", typ)
	}
	if err := decode.Unmarshal(data, &w); err != nil {
		return w, "", "", err
	}
	order, user := pick(w.OrderID, w.OrderIDS), pick(w.UserID, w.UserIDS)
	if err := requireID("orderId", order); err != nil {
		return w, "", "", err
	}
	if user != "" {
		if err := decode.ID("userId", user); err != nil {
			return w, "", "", err
		}
	}
	return w, order, user, nil
}

func webhookItems(in []wireWebhookItem, required bool) ([]WebhookItem, error) {
	if required && len(in) == 0 {
		return nil, decode.Errorf("field %q must hold at least one item", "items")
	}
	if len(in) > MaxLines {
		return nil, decode.Errorf("field %q holds %d items, at most %d are allowed", "items", len(in), MaxLines)
	}
	out := make([]WebhookItem, 0, len(in))
	for i, it := range in {
		at := elem{"items", i}
		id := pick(it.ID, it.ProductID)
		if id == "" {
			return nil, decode.Errorf("missing field %q", at.path(".id"))
		}
		if err := validID(at, ".id", id); err != nil {
			return nil, err
		}
		q, err := quantity(at, ".quantity", it.Quantity)
		if err != nil {
			return nil, err
		}
		out = append(out, WebhookItem{ID: id, Quantity: q, Price: amount(it.Price)})
	}
	return out, nil
}

// amount reads a money field leniently: an integer of minor units as a JSON
// number or string, else 0. Amounts are recorded, never acted on, so a
// format Stash changes must not fail a delivery that grants items.
func amount(v decode.Int64) int64 {
	if n, ok := v.Get(); ok {
		return n
	}
	return 0
}

// DecodePurchaseSucceeded decodes PURCHASE_SUCCEEDED's data.
func DecodePurchaseSucceeded(data json.RawMessage) (PurchaseSucceeded, error) {
	w, order, user, err := decodePurchaseEvent(data, EventPurchaseSucceeded)
	if err != nil {
		return PurchaseSucceeded{}, err
	}
	if user == "" {
		return PurchaseSucceeded{}, decode.Errorf("missing field %q", "userId")
	}
	e := PurchaseSucceeded{OrderID: order, UserID: user, CheckoutLinkID: pick(w.CheckoutLinkID, w.CheckoutLinkIDS),
		RegionCode: pick(w.RegionCode, w.RegionCodeS), Source: w.Source, IPAddress: pick(w.IPAddress, w.IPAddressS), TaxDetails: w.TaxDetails}
	if e.Currency, err = Currency("currency", w.Currency); err != nil {
		return PurchaseSucceeded{}, err
	}
	if e.Items, err = webhookItems(w.Items, true); err != nil {
		return PurchaseSucceeded{}, err
	}
	e.Tax, e.Total = amount(w.Tax), amount(w.Total)
	if e.TimeMillis, err = optionalInt(pickInt(w.TimeMillis, w.TimeMillisS), "timeMillis"); err != nil {
		return PurchaseSucceeded{}, err
	}
	e.EmailMarketingOptIn = pickBool(w.EmailMarketingOptIn, w.EmailMarketingOptInS)
	return e, nil
}

// DecodePurchaseRefunded decodes PURCHASE_REFUNDED's data.
func DecodePurchaseRefunded(data json.RawMessage) (PurchaseRefunded, error) {
	w, order, user, err := decodePurchaseEvent(data, EventPurchaseRefunded)
	if err != nil {
		return PurchaseRefunded{}, err
	}
	e := PurchaseRefunded{OrderID: order, UserID: user, RefundID: pick(w.RefundID, w.RefundIDS)}
	if e.RefundID != "" {
		if err := decode.ID("refundId", e.RefundID); err != nil {
			return PurchaseRefunded{}, err
		}
	}
	if w.Currency != "" {
		if e.Currency, err = Currency("currency", w.Currency); err != nil {
			return PurchaseRefunded{}, err
		}
	}
	if e.Items, err = webhookItems(w.Items, false); err != nil {
		return PurchaseRefunded{}, err
	}
	for _, f := range []*bool{w.FullRefund, w.IsFullRefund} {
		if f != nil && *f {
			e.Full = true
		}
	}
	if len(e.Items) == 0 {
		e.Full = true
	}
	e.Amount = amount(pickInt(w.Amount, w.Total))
	if e.TimeMillis, err = optionalInt(pickInt(w.TimeMillis, w.TimeMillisS), "timeMillis"); err != nil {
		return PurchaseRefunded{}, err
	}
	return e, nil
}
