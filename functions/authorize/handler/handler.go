// Package handler implements Stash's purchase authorization call,
// POST /purchase/{playerId}: Stash calls it once the player can pay, and a 200
// tells Stash to charge. The items are granted to the player's inventory and
// the transaction recorded in one DynamoDB transaction, conditional on the
// transaction being new, so a retried call never grants twice.
package handler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/auth"
	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/httpx"
	"github.com/tollgate-dev/tollgate/shared/inventory"
	"github.com/tollgate-dev/tollgate/shared/secrets"
	"github.com/tollgate-dev/tollgate/shared/store"
)

// EnvAPIKeyHeader names the header that carries the API key (Stash lets a
// studio choose it); DefaultAPIKeyHeader is used when it is unset.
const (
	EnvAPIKeyHeader     = "STASH_API_KEY_HEADER"
	DefaultAPIKeyHeader = "x-api-key"
)

// Messages of the answers.
const (
	msgGranted     = "Transaction processed successfully"
	msgUnavailable = "The purchase could not be recorded; nothing was granted. Retry the request."
)

// Handler serves POST /purchase/{playerId}.
type Handler struct {
	store store.Store
	now   func() time.Time
	log   *slog.Logger
}

// New builds the handler from its dependencies: Stash's API key, in the
// configured header, guards it.
func New(d deps.Deps) (http.Handler, error) {
	header := d.Getenv(EnvAPIKeyHeader)
	if header == "" {
		header = DefaultAPIKeyHeader
	}
	h := &Handler{store: d.Store, now: d.Now, log: d.Logger}
	return auth.Keys{Source: d.Secrets}.RequireHeader(secrets.StashAPIKey, header, d.Logger, h), nil
}

type grantedBody struct {
	Message       string `json:"message"`
	TransactionID string `json:"transactionId"`
	PlayerID      string `json:"playerId"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	playerID, err := httpx.PathID(r, "playerId")
	if err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	body, err := httpx.ReadJSON(r, BodyLimit)
	if err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	req, err := DecodeRequest(body)
	if err != nil {
		httpx.WriteRequestError(w, err)
		return
	}

	now := h.now()
	response, _ := json.Marshal(grantedBody{Message: msgGranted, TransactionID: req.TransactionID, PlayerID: playerID})
	itemsJSON, _ := json.Marshal(req.Items)
	rec := store.Record{
		Key:         RecordKey(req.TransactionID),
		Fingerprint: fingerprint(playerID, req),
		Status:      http.StatusOK,
		Response:    response,
		CreatedAt:   now,
		Attributes: map[string]types.AttributeValue{
			"kind":     &types.AttributeValueMemberS{Value: "authorization"},
			"playerId": &types.AttributeValueMemberS{Value: playerID},
			"items":    &types.AttributeValueMemberS{Value: string(itemsJSON)},
		},
	}
	outcome, stored, err := h.store.ApplyOnce(ctx, rec, inventory.GrantOps(h.store.Tables.Players, playerID, req.Items, now))
	if err != nil {
		h.log.ErrorContext(ctx, "authorization not recorded", "transactionId", req.TransactionID, "playerId", playerID, "error", err)
		httpx.WriteError(w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	switch outcome {
	case store.Applied:
		h.log.InfoContext(ctx, "purchase granted", "transactionId", req.TransactionID, "playerId", playerID, "products", len(req.Items))
		httpx.WriteRawJSON(w, rec.Status, rec.Response)
	case store.Replayed:
		h.log.InfoContext(ctx, "purchase replayed; nothing granted again", "transactionId", req.TransactionID, "playerId", playerID)
		httpx.WriteRawJSON(w, stored.Status, stored.Response)
	default:
		h.log.WarnContext(ctx, "transactionId reused for a different purchase", "transactionId", req.TransactionID, "playerId", playerID)
		httpx.WriteError(w, http.StatusConflict, "transactionId "+strconv.Quote(req.TransactionID)+" was already used for a different purchase")
	}
}

// RecordKey is the idempotency key of an authorization.
func RecordKey(transactionID string) string { return "authorization#" + transactionID }

// fingerprint identifies what was asked: the player and the normalized items.
func fingerprint(playerID string, req Request) string {
	h := sha256.New()
	h.Write([]byte(playerID))
	for _, it := range req.Items {
		h.Write([]byte{0})
		h.Write([]byte(it.ProductID))
		h.Write([]byte{0})
		h.Write([]byte(strconv.FormatInt(it.Quantity, 10)))
	}
	return hex.EncodeToString(h.Sum(nil))
}
