package handler

import (
	"encoding/json"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

// Limits and defaults of a profile.
const (
	ProfileBodyLimit   = 16 << 10 // bytes
	MaxNameLength      = 64       // characters
	MaxAvatarURLLength = 2048     // bytes
	// DefaultInGameLevel and DefaultInGameCurrency apply when the game
	// server leaves the field out (Stash's defaults: "must be positive,
	// default 1" and "must be non-negative, default 0").
	DefaultInGameLevel    = 1
	DefaultInGameCurrency = 0
	// MaxProfileNumber (2^53-1) bounds inGameLevel and inGameCurrency:
	// beyond it a number has no exact float64 form, and an emulator that
	// stores numbers as float64 (minidyn) would round it into a row that
	// no longer reads back as an integer.
	MaxProfileNumber = 1<<53 - 1
)

// maxQuoted is how much of a refused value a message quotes, in bytes.
const maxQuoted = 64

// profileFields are the fields a profile body may hold.
var profileFields = []string{"playerId", "name", "avatarUrl", "language", "inGameLevel", "inGameCurrency"}

// DecodeProfile decodes and validates the game server's profile body for
// playerID (PUT /api/v1/players/{playerId}), a whole profile that replaces
// the stored one:
//
//	{"name": "Aria", "avatarUrl": "https://cdn.example.com/a.png", "language": "en",
//	 "inGameLevel": 12, "inGameCurrency": 1500}
//
// name is required (1–64 characters, not blank, no control characters);
// avatarUrl (an absolute https URL) and language (a tag such as "en" or
// "pt-BR") are optional; inGameLevel (integer 1 to 2^53-1, default 1) and
// inGameCurrency (integer 0 to 2^53-1, default 0) may be JSON numbers or
// strings holding one. playerId may be repeated in the body but must then equal
// the path's. A field the format does not know is refused, so a typo never
// silently clears a value; null is the same as absent. Refusals are
// *decode.Error values (answered 400) naming the field. UpdatedAt is left
// zero.
func DecodeProfile(playerID string, body []byte) (players.Profile, error) {
	if err := decode.ID("playerId", playerID); err != nil {
		return players.Profile{}, err
	}
	var fields map[string]json.RawMessage
	if err := decode.Unmarshal(body, &fields); err != nil {
		return players.Profile{}, err
	}
	if fields == nil {
		return players.Profile{}, decode.Errorf("request body must be a JSON object")
	}
	var unknown []string
	for k, v := range fields {
		if !slices.Contains(profileFields, k) {
			unknown = append(unknown, k)
		}
		if decode.Null(v) {
			delete(fields, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return players.Profile{}, decode.Errorf("unknown field %q (a profile has %s)", decode.Truncate(unknown[0], maxQuoted), strings.Join(profileFields, ", "))
	}
	p := players.Profile{PlayerID: playerID, InGameLevel: DefaultInGameLevel, InGameCurrency: DefaultInGameCurrency}
	if raw, ok := fields["playerId"]; ok {
		id, err := stringField("playerId", raw)
		if err != nil {
			return players.Profile{}, err
		}
		if id != playerID {
			return players.Profile{}, decode.Errorf("field %q is %q, but the path names player %q", "playerId", decode.Truncate(id, maxQuoted), playerID)
		}
	}
	raw, ok := fields["name"]
	if !ok {
		return players.Profile{}, decode.Errorf("missing field %q", "name")
	}
	var err error
	if p.Name, err = stringField("name", raw); err != nil {
		return players.Profile{}, err
	}
	if err := validateName(p.Name); err != nil {
		return players.Profile{}, err
	}
	if raw, ok := fields["avatarUrl"]; ok {
		if p.AvatarURL, err = stringField("avatarUrl", raw); err != nil {
			return players.Profile{}, err
		}
		if err := validateAvatarURL(p.AvatarURL); err != nil {
			return players.Profile{}, err
		}
	}
	if raw, ok := fields["language"]; ok {
		if p.Language, err = stringField("language", raw); err != nil {
			return players.Profile{}, err
		}
		if err := validate.Language(p.Language); err != nil {
			return players.Profile{}, decode.Errorf("field %q %v, got %q", "language", err, decode.Truncate(p.Language, maxQuoted))
		}
	}
	if raw, ok := fields["inGameLevel"]; ok {
		if p.InGameLevel, err = intField("inGameLevel", raw); err != nil {
			return players.Profile{}, err
		}
		if p.InGameLevel < 1 {
			return players.Profile{}, decode.Errorf("field %q must be at least 1, got %d", "inGameLevel", p.InGameLevel)
		}
		if err := atMost("inGameLevel", p.InGameLevel); err != nil {
			return players.Profile{}, err
		}
	}
	if raw, ok := fields["inGameCurrency"]; ok {
		if p.InGameCurrency, err = intField("inGameCurrency", raw); err != nil {
			return players.Profile{}, err
		}
		if p.InGameCurrency < 0 {
			return players.Profile{}, decode.Errorf("field %q must not be negative, got %d", "inGameCurrency", p.InGameCurrency)
		}
		if err := atMost("inGameCurrency", p.InGameCurrency); err != nil {
			return players.Profile{}, err
		}
	}
	return p, nil
}

func stringField(field string, raw json.RawMessage) (string, error) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", decode.Errorf("field %q must be a string", field)
	}
	return s, nil
}

// intField reads an integer sent as a JSON number or a string holding one
// (as Stash's int64 fields are).
func intField(field string, raw json.RawMessage) (int64, error) {
	var n decode.Int64
	if err := n.UnmarshalJSON(raw); err != nil {
		return 0, decode.Errorf("field %q must be an integer", field)
	}
	return n.Value(field)
}

func atMost(field string, n int64) error {
	if n > MaxProfileNumber {
		return decode.Errorf("field %q must be at most %d (2^53-1), got %d", field, int64(MaxProfileNumber), n)
	}
	return nil
}

func validateName(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return decode.Errorf("field %q must not be empty or blank", "name")
	case n > MaxNameLength:
		return decode.Errorf("field %q is longer than %d characters", "name", MaxNameLength)
	}
	for _, r := range name {
		if !unicode.IsGraphic(r) {
			return decode.Errorf("field %q holds a control or non-printable character", "name")
		}
	}
	return nil
}

func validateAvatarURL(s string) error {
	bad := func() error {
		return decode.Errorf("field %q must be an absolute https URL (at most %d bytes), got %q", "avatarUrl", MaxAvatarURLLength, decode.Truncate(s, maxQuoted))
	}
	if len(s) > MaxAvatarURLLength || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) }) >= 0 {
		return bad()
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" || u.User != nil || u.Hostname() == "" {
		return bad()
	}
	return nil
}
