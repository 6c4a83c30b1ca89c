// Package handler implements Stash's player lookup, GET /api/v1/player
// (UserService_GetPlayer): the profile the game server stored with
// PUT /api/v1/players/{playerId}, read in one GetItem.
package handler

import (
	"context"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
	"github.com/tollgate-dev/tollgate/shared/stash/stashhttp"
)

// Handler serves GET /api/v1/player.
type Handler struct {
	profiles *players.Profiles
}

// New builds the handler from its dependencies.
func New(d deps.Deps) (http.Handler, error) {
	sig, err := stashhttp.Signatures(d)
	if err != nil {
		return nil, err
	}
	h := &Handler{profiles: players.NewProfiles(d)}
	return stashhttp.HandleQuery(sig, d.Logger, stashapi.DecodePlayerQuery, h.Player), nil
}

// Player answers one player request: the stored profile, or 404 code 5
// when the game server never stored one.
func (h *Handler) Player(ctx context.Context, q stashapi.PlayerQuery) (stashapi.PlayerResponse, error) {
	p, err := h.profiles.Find(ctx, q.PlayerID)
	if err != nil {
		return stashapi.PlayerResponse{}, err
	}
	return stashapi.PlayerResponse{Player: stashapi.Player{PlayerID: p.PlayerID, Name: p.Name, AvatarURL: p.AvatarURL,
		Language: p.Language, InGameLevel: p.InGameLevel, InGameCurrency: p.InGameCurrency}}, nil
}
