package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

// Limits of an authorization request. A purchase beyond them is refused with
// 400 before anything is written.
const (
	// MaxItems bounds the lines of "items" as sent, before lines naming the
	// same product are merged. The grant is one DynamoDB transaction, which
	// holds at most 100 items: the record plus one write per product, so 51
	// at most. Counting lines rather than products also caps the decoding
	// done before the merge.
	MaxItems    = 50
	MaxQuantity = validate.MaxQuantity // units of one product per purchase, once its lines are merged
	BodyLimit   = 16 << 10             // bytes
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
// Unknown fields are ignored. Every refusal is a *decode.Error (answered
// 400) naming the field at fault.
func DecodeRequest(body []byte) (Request, error) {
	var w wireRequest
	if err := decode.Unmarshal(body, &w); err != nil {
		return Request{}, err
	}
	txID, err := decodeID("transactionId", w.TransactionID)
	if err != nil {
		return Request{}, err
	}
	if decode.Null(w.Items) {
		return Request{}, decode.Errorf("missing field %q", "items")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(w.Items, &raw); err != nil {
		return Request{}, decode.Errorf("field %q must be an array of {\"id\", \"quantity\"} objects", "items")
	}
	if len(raw) == 0 {
		return Request{}, decode.Errorf("field %q must hold at least one item", "items")
	}
	if len(raw) > MaxItems {
		return Request{}, decode.Errorf("field %q holds %d items, at most %d are allowed", "items", len(raw), MaxItems)
	}
	items := make([]players.Item, 0, len(raw))
	for i, r := range raw {
		var wi wireItem
		if bytes.HasPrefix(bytes.TrimSpace(r), []byte("{")) {
			if err := json.Unmarshal(r, &wi); err != nil {
				return Request{}, decode.Errorf("items[%d] is not a valid object", i)
			}
		} else {
			return Request{}, decode.Errorf("items[%d] must be an object with \"id\" and \"quantity\"", i)
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
		if validate.Quantity(it.Quantity) != nil {
			return Request{}, decode.Errorf("item %q: total quantity %d exceeds %d", it.ProductID, it.Quantity, MaxQuantity)
		}
	}
	return Request{TransactionID: txID, Items: items}, nil
}

func decodeID(field string, raw json.RawMessage) (string, error) {
	if decode.Null(raw) {
		return "", decode.Errorf("missing field %q", field)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", decode.Errorf("field %q must be a string", field)
	}
	if err := decode.ID(field, s); err != nil {
		return "", err
	}
	return s, nil
}

// decodeQuantity reads a quantity: a JSON number written as an integer
// (validate.Integer; a string is refused) within validate.Quantity.
func decodeQuantity(field string, raw json.RawMessage) (int64, error) {
	if decode.Null(raw) {
		return 0, decode.Errorf("missing field %q", field)
	}
	t := bytes.TrimSpace(raw)
	q, err := validate.Integer(t)
	switch {
	case errors.Is(err, validate.ErrNotNumber):
		return 0, decode.Errorf("field %q must be an integer", field)
	case err != nil && onlyNotWhole(t):
		return 0, decode.Errorf("field %q must be a whole number, got %s", field, t)
	case err != nil:
		return 0, decode.Errorf("field %q must be an integer from 1 to %d, got %s", field, MaxQuantity, t)
	}
	if err := validate.Quantity(q); err != nil {
		return 0, decode.Errorf("field %q %v", field, err)
	}
	return q, nil
}

// onlyNotWhole reports whether the number tok, which is not written as an
// integer (1.5, 1e2, 2.0), lies from 1 to MaxQuantity: then "whole number"
// is all that is wrong with it. WholeNumber answers a whole value exactly,
// and a fraction rounded toward zero, which lies from 1 to MaxQuantity-1
// when the fraction is in the range.
func onlyNotWhole(tok []byte) bool {
	n, err := validate.WholeNumber(tok)
	switch {
	case err == nil:
		return validate.Quantity(n) == nil
	case errors.Is(err, validate.ErrNotInteger):
		return n >= 1 && n < MaxQuantity
	}
	return false
}
