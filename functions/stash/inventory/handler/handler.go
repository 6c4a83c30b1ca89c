// Package handler implements the game server's read of a player's inventory,
// GET /api/v1/players/{playerId}/inventory, authenticated with the game
// server key as a Bearer token. Everything a purchase grants shows here.
package handler

import (
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

// Handler serves GET /api/v1/players/{playerId}/inventory.
type Handler struct {
	db    *dynamodb.Client
	table string
	log   *slog.Logger
}

// New builds the handler from its dependencies: the game server key guards it.
func New(d deps.Deps) (http.Handler, error) {
	h := &Handler{db: d.Store.DB, table: d.Store.Tables.Players, log: d.Logger}
	return auth.Keys{Source: d.Secrets}.RequireBearer(secrets.GameServerKey, d.Logger, h), nil
}

// Response is the answer: the player's items with a positive quantity, and
// the debts refunds left (units refunded after the player had spent them),
// both sorted by product id (empty lists for an unknown player).
type Response struct {
	PlayerID string         `json:"playerId"`
	Items    []players.Item `json:"items"`
	Debts    []players.Item `json:"debts"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	playerID, err := httpx.PathID(r, "playerId")
	if err != nil {
		httpx.WriteRequestError(w, err)
		return
	}
	items, debts, err := players.Holdings(ctx, h.db, h.table, playerID)
	if err != nil {
		h.log.Log(ctx, failure.Level(ctx, err), "inventory read failed", "playerId", playerID, "error", err)
		httpx.WriteError(w, http.StatusServiceUnavailable, "inventory temporarily unavailable; retry")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, Response{PlayerID: playerID, Items: items, Debts: debts})
}
