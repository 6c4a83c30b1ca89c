package handler

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/tollgate-dev/tollgate/shared/httpx"
	"github.com/tollgate-dev/tollgate/shared/players"
)

// Limits of an authorization request. A purchase beyond them is refused with
// 400 before anything is written.
const (
	MaxItems    = 50       // distinct products per purchase (a transaction holds at most 100 writes)
	MaxQuantity = 10000    // units of one product per purchase
	BodyLimit   = 16 << 10 // bytes
)

// Request is a decoded, validated authorization request.
type Request struct {
	TransactionID string
	Items         []players.Item // normalized: merged by product id and sorted
}

type wireRequest struct {
	TransactionID json.RawMessage `json:"transactionId"`
	Items         json.RawMessage `json:"items"`
}

type wireItem struct {
	ID       json.RawMessage `json:"id"`
	Quantity json.RawMessage `json:"quantity"`
}

// DecodeRequest parses and validates the body of POST /purchase/{playerId}.
// Unknown fields are ignored. Every refusal is a 400 *httpx.RequestError
// naming the field at fault.
func DecodeRequest(body []byte) (Request, error) {
	var w wireRequest
	if err := httpx.Unmarshal(body, &w); err != nil {
		return Request{}, err
	}
	txID, err := decodeID("transactionId", w.TransactionID)
	if err != nil {
		return Request{}, err
	}
	if isNull(w.Items) {
		return Request{}, httpx.BadRequest("missing field %q", "items")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(w.Items, &raw); err != nil {
		return Request{}, httpx.BadRequest("field %q must be an array of {\"id\", \"quantity\"} objects", "items")
	}
	if len(raw) == 0 {
		return Request{}, httpx.BadRequest("field %q must hold at least one item", "items")
	}
	if len(raw) > MaxItems {
		return Request{}, httpx.BadRequest("field %q holds %d items, at most %d are allowed", "items", len(raw), MaxItems)
	}
	items := make([]players.Item, 0, len(raw))
	for i, r := range raw {
		var wi wireItem
		if bytes.HasPrefix(bytes.TrimSpace(r), []byte("{")) {
			if err := json.Unmarshal(r, &wi); err != nil {
				return Request{}, httpx.BadRequest("items[%d] is not a valid object", i)
			}
		} else {
			return Request{}, httpx.BadRequest("items[%d] must be an object with \"id\" and \"quantity\"", i)
		}
		id, err := decodeID("items["+strconv.Itoa(i)+"].id", wi.ID)
		if err != nil {
			return Request{}, err
		}
		q, err := decodeQuantity("items["+strconv.Itoa(i)+"].quantity", wi.Quantity)
		if err != nil {
			return Request{}, err
		}
		items = append(items, players.Item{ProductID: id, Quantity: q})
	}
	items = players.Normalize(items)
	for _, it := range items {
		if it.Quantity > MaxQuantity {
			return Request{}, httpx.BadRequest("item %q: total quantity %d exceeds %d", it.ProductID, it.Quantity, MaxQuantity)
		}
	}
	return Request{TransactionID: txID, Items: items}, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

func decodeID(field string, raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", httpx.BadRequest("missing field %q", field)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", httpx.BadRequest("field %q must be a string", field)
	}
	if err := httpx.ValidateID(field, s); err != nil {
		return "", err
	}
	return s, nil
}

func decodeQuantity(field string, raw json.RawMessage) (int64, error) {
	if isNull(raw) {
		return 0, httpx.BadRequest("missing field %q", field)
	}
	t := bytes.TrimSpace(raw)
	if t[0] != '-' && (t[0] < '0' || t[0] > '9') {
		return 0, httpx.BadRequest("field %q must be an integer", field)
	}
	q, err := strconv.ParseInt(string(t), 10, 64)
	if err != nil {
		var f float64
		if json.Unmarshal(t, &f) == nil && f >= 1 && f <= MaxQuantity {
			return 0, httpx.BadRequest("field %q must be a whole number, got %s", field, t)
		}
		return 0, httpx.BadRequest("field %q must be an integer from 1 to %d, got %s", field, MaxQuantity, t)
	}
	if q < 1 || q > MaxQuantity {
		return 0, httpx.BadRequest("field %q must be from 1 to %d, got %d", field, MaxQuantity, q)
	}
	return q, nil
}
