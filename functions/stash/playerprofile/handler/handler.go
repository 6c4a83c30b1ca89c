// Package handler implements the game server's profile write,
// PUT /api/v1/players/{playerId}, authenticated with the game server key as a
// Bearer token: it stores the player's profile (one PutItem, replacing the
// previous one) that Stash's GET /api/v1/player reads.
package handler

import (
	"log/slog"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

// Handler serves PUT /api/v1/players/{playerId}.
type Handler struct {
	profiles *players.Profiles
	log      *slog.Logger
}

// New builds the handler from its dependencies: the game server key guards it.
func New(d deps.Deps) (http.Handler, error) {
	h := &Handler{profiles: players.NewProfiles(d), log: d.Logger}
	return auth.Keys{Source: d.Secrets}.RequireBearer(secrets.GameServerKey, d.Logger, h), nil
}

// ServeHTTP stores the profile (DecodeProfile says what a body
// holds) and answers 200 with it, whether it was created or replaced, so a
// retried PUT answers as the first one did.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	playerID, err := httpx.PathID(r, "playerId")
	if err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	body, err := httpx.ReadJSON(r, ProfileBodyLimit)
	if err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	p, err := DecodeProfile(playerID, body)
	if err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	stored, err := h.profiles.Save(ctx, p)
	if err != nil {
		h.log.Log(ctx, failure.Level(ctx, err), "profile write failed", "playerId", playerID, "error", err)
		httpx.WriteError(w, http.StatusServiceUnavailable, "profile temporarily unavailable; nothing changed; retry")
		return
	}
	h.log.InfoContext(ctx, "profile stored", "playerId", playerID)
	httpx.WriteJSON(w, http.StatusOK, stored)
}
