// Package handler implements Stash's purchase authorization call,
// POST /purchase/{playerId}: Stash calls it once the player can pay, and a 200
// tells Stash to charge. The items are granted to the player's inventory and
// the transaction recorded in one DynamoDB transaction, conditional on the
// transaction being new, so a retried call never grants twice.
package handler

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/stash/purchase"
)

// EnvAPIKeyHeader names the header that carries the API key (Stash lets a
// studio choose it); DefaultAPIKeyHeader is used when it is unset.
const (
	EnvAPIKeyHeader     = "STASH_API_KEY_HEADER" //nolint:gosec // G101: an environment variable's name, not a credential
	DefaultAPIKeyHeader = "x-api-key"
)

const msgUnavailable = "The purchase could not be recorded; nothing was granted. Retry the request."

// Handler serves POST /purchase/{playerId}.
type Handler struct {
	authorizer *purchase.Authorizer
	log        *slog.Logger
}

// New builds the handler from its dependencies: Stash's API key, in the
// configured header, guards it.
func New(d deps.Deps) (http.Handler, error) {
	header := d.String(EnvAPIKeyHeader, DefaultAPIKeyHeader)
	h := &Handler{authorizer: purchase.NewAuthorizer(d), log: d.Logger}
	return auth.Keys{Source: d.Secrets}.RequireHeader(secrets.StashAPIKey, header, d.Logger, h), nil
}

// ServeHTTP decodes the request, authorizes it and answers 200 with the
// receipt (the first call's, for a replay), 409 for a transactionId used
// for a different purchase, 400/413 for a request that cannot be decoded,
// 503 when nothing could be recorded.
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
	receipt, err := h.authorizer.Authorize(ctx, purchase.Authorization{TransactionID: req.TransactionID, PlayerID: playerID, Items: req.Items})
	var refused *refusal.Error
	switch {
	case err == nil:
		httpx.WriteJSON(w, http.StatusOK, receipt)
	case errors.As(err, &refused):
		httpx.WriteError(w, http.StatusConflict, refused.Message)
	default:
		h.log.Log(ctx, failure.Level(ctx, err), "authorization not recorded", "transactionId", req.TransactionID, "playerId", playerID, "error", err)
		httpx.WriteError(w, http.StatusServiceUnavailable, msgUnavailable)
	}
}
