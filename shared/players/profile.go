package players

import (
	"time"
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
