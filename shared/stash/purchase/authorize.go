package purchase

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

// Authorizer serves Stash's older single-call purchase authorization: Stash
// says the player can pay, the items are granted at once, and the answer
// tells Stash to charge. It needs no catalog: the call carries no prices,
// and Stash checked the cart against the studio's products before calling.
type Authorizer struct {
	store dynamo.Store
	now   func() time.Time
	log   *slog.Logger
}

// NewAuthorizer builds the authorizer of a function from its dependencies.
func NewAuthorizer(d deps.Deps) *Authorizer {
	return &Authorizer{store: d.Store, now: d.Now, log: d.Logger}
}

// Authorization is one authorization request.
type Authorization struct {
	TransactionID string
	PlayerID      string
	Items         []players.Item // lines of one product are merged
}

// Receipt is the answer to a granted authorization, stored with its record
// so that a replay answers exactly what the first call answered.
type Receipt struct {
	Message       string `json:"message"`
	TransactionID string `json:"transactionId"`
	PlayerID      string `json:"playerId"`
}

const receiptMessage = "Transaction processed successfully"

// Authorize grants a.Items to the player and records the transaction in one
// TransactWriteItems, conditional on the transaction being new: a retried
// call answers the first call's receipt and grants nothing. A
// transactionId used before for another player or other items is refused
// (ErrTransactionReused); any other error means nothing was granted and a
// retry is safe.
func (a *Authorizer) Authorize(ctx context.Context, req Authorization) (Receipt, error) {
	// The fingerprint and the grants (one write per product) need one
	// line per product, in order.
	req.Items = players.Normalize(req.Items)
	now := a.now()
	receipt := Receipt{Message: receiptMessage, TransactionID: req.TransactionID, PlayerID: req.PlayerID}
	response, err := json.Marshal(receipt)
	if err != nil {
		return Receipt{}, err
	}
	itemsJSON, _ := json.Marshal(req.Items)
	rec := dynamo.Record{
		Key:         authorizationKey(req.TransactionID),
		Fingerprint: authorizationFingerprint(req),
		Response:    response,
		CreatedAt:   now,
		Attributes: map[string]types.AttributeValue{
			attrKind:   dynamo.S(kindAuthorization),
			attrPlayer: dynamo.S(req.PlayerID),
			attrItems:  dynamo.S(string(itemsJSON)),
		},
	}
	outcome, stored, err := a.store.ApplyOnce(ctx, rec, players.GrantOps(a.store.Tables.Players, req.PlayerID, req.Items, now))
	if err != nil {
		return Receipt{}, fmt.Errorf("authorization %s: %w", req.TransactionID, err)
	}
	switch outcome {
	case dynamo.Applied:
		a.log.InfoContext(ctx, "purchase granted", "transactionId", req.TransactionID, "playerId", req.PlayerID, "products", len(req.Items))
		return receipt, nil
	case dynamo.Replayed:
		a.log.InfoContext(ctx, "purchase replayed; nothing granted again", "transactionId", req.TransactionID, "playerId", req.PlayerID)
		var first Receipt
		if err := json.Unmarshal(stored.Response, &first); err != nil {
			return Receipt{}, fmt.Errorf("stored authorization %s: %w", req.TransactionID, err)
		}
		return first, nil
	}
	a.log.WarnContext(ctx, "transactionId reused for a different purchase", "transactionId", req.TransactionID, "playerId", req.PlayerID)
	return Receipt{}, refusal.New(ErrTransactionReused, "transactionId %s was already used for a different purchase", strconv.Quote(req.TransactionID))
}

// authorizationKey is the key of an authorization's record.
func authorizationKey(transactionID string) string { return "authorization#" + transactionID }

// authorizationFingerprint identifies what was asked: the player and the
// normalized items.
func authorizationFingerprint(req Authorization) string {
	parts := make([]string, 0, 1+2*len(req.Items))
	parts = append(parts, req.PlayerID)
	for _, it := range req.Items {
		parts = append(parts, it.ProductID, strconv.FormatInt(it.Quantity, 10))
	}
	return dynamo.Fingerprint(parts...)
}
