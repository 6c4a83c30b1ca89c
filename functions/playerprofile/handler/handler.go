// Package handler implements the game server's profile write,
// PUT /api/v1/players/{playerId}, authenticated with the game server key as a
// Bearer token: it stores the player's profile (one PutItem, replacing the
// previous one) that Stash's GET /api/v1/player reads.
package handler

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/shared/auth"
	"github.com/tollgate-dev/tollgate/shared/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform"
	"github.com/tollgate-dev/tollgate/shared/players"
	"github.com/tollgate-dev/tollgate/shared/secrets"
)

const msgUnavailable = "profile temporarily unavailable; nothing changed; retry"

// Handler serves PUT /api/v1/players/{playerId}.
type Handler struct {
	db    *dynamodb.Client
	table string
	keys  auth.Keys
	now   func() time.Time
	log   *slog.Logger
}

// New builds the handler from its dependencies.
func New(d platform.Deps) (http.Handler, error) {
	return &Handler{db: d.Store.DB, table: d.Store.Tables.Players, keys: auth.Keys{Source: d.Secrets}, now: d.Now, log: d.Logger}, nil
}

// ServeHTTP stores the profile (players.DecodeProfile says what a body
// holds) and answers 200 with it, whether it was created or replaced, so a
// retried PUT answers as the first one did.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := h.keys.Check(ctx, secrets.GameServerKey, auth.BearerToken(r)); err != nil {
		if errors.Is(err, auth.ErrUnauthorized) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
			httpx.WriteError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		h.log.ErrorContext(ctx, "game server key unavailable", "error", err)
		httpx.WriteError(w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	playerID := r.PathValue("playerId")
	if err := httpx.ValidateID("playerId", playerID); err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	if err := httpx.RequireJSON(r); err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	body, err := httpx.ReadBody(r, players.ProfileBodyLimit)
	if err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	p, err := players.DecodeProfile(playerID, body)
	if err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	p.UpdatedAt = h.now().UTC()
	created, err := players.Put(ctx, h.db, h.table, p)
	if err != nil {
		h.log.ErrorContext(ctx, "profile write failed", "playerId", playerID, "error", err)
		httpx.WriteError(w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	h.log.InfoContext(ctx, "profile stored", "playerId", playerID, "created", created)
	httpx.WriteJSON(w, http.StatusOK, p)
}
