package players

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// Profile is what the game server says about a player and Stash reads back
// (UserService_GetPlayer). It is also the game server's answer body.
type Profile struct {
	PlayerID       string    `json:"playerId"`
	Name           string    `json:"name"`
	AvatarURL      string    `json:"avatarUrl,omitempty"`
	Language       string    `json:"language,omitempty"`
	InGameLevel    int64     `json:"inGameLevel"`
	InGameCurrency int64     `json:"inGameCurrency"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Profiles stores and reads players' profiles.
type Profiles struct {
	db    *dynamodb.Client
	table string
	now   func() time.Time
}

// NewProfiles builds the profiles of a function from its dependencies.
func NewProfiles(d deps.Deps) *Profiles {
	return &Profiles{db: d.Store.DB, table: d.Store.Tables.Players, now: d.Now}
}

// Save stores p as the player's whole profile (replacing the previous
// one), stamped with the time of the write, and returns it as stored.
func (s *Profiles) Save(ctx context.Context, p Profile) (Profile, error) {
	p.UpdatedAt = s.now().UTC()
	if err := Put(ctx, s.db, s.table, p); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// Find reads a player's profile, refusing (ErrNoProfile) when the game
// server never stored one.
func (s *Profiles) Find(ctx context.Context, playerID string) (Profile, error) {
	p, found, err := Get(ctx, s.db, s.table, playerID)
	if err != nil {
		return Profile{}, err
	}
	if !found {
		return Profile{}, refusal.New(ErrNoProfile, "no player with playerId %s", playerID)
	}
	return p, nil
}
