package handler_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/functions/stash/playerprofile/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

func TestDecodeProfile(t *testing.T) {
	tests := []struct {
		name, body string
		want       players.Profile
	}{
		{"everything", `{"name":"Aria","avatarUrl":"https://cdn.example.com/a.png?s=64","language":"pt-BR","inGameLevel":12,"inGameCurrency":1500}`,
			players.Profile{PlayerID: "p1", Name: "Aria", AvatarURL: "https://cdn.example.com/a.png?s=64", Language: "pt-BR", InGameLevel: 12, InGameCurrency: 1500}},
		{"defaults", `{"name":"Aria"}`, players.Profile{PlayerID: "p1", Name: "Aria", InGameLevel: 1, InGameCurrency: 0}},
		{"nulls are absent", `{"name":"Aria","avatarUrl":null,"language":null,"inGameLevel":null,"inGameCurrency":null}`,
			players.Profile{PlayerID: "p1", Name: "Aria", InGameLevel: 1}},
		{"int64 as strings", `{"name":"Aria","inGameLevel":"7","inGameCurrency":"9007199254740991"}`,
			players.Profile{PlayerID: "p1", Name: "Aria", InGameLevel: 7, InGameCurrency: 9007199254740991}},
		{"largest numbers (2^53-1)", `{"name":"A","inGameLevel":9007199254740991,"inGameCurrency":9007199254740991}`,
			players.Profile{PlayerID: "p1", Name: "A", InGameLevel: 9007199254740991, InGameCurrency: 9007199254740991}},
		{"playerId repeated", `{"playerId":"p1","name":"Aria"}`, players.Profile{PlayerID: "p1", Name: "Aria", InGameLevel: 1}},
		{"unicode name at the limit", `{"name":"` + strings.Repeat("竜", 64) + `"}`, players.Profile{PlayerID: "p1", Name: strings.Repeat("竜", 64), InGameLevel: 1}},
		{"name with inner spaces", `{"name":"Sir Aria the 2nd"}`, players.Profile{PlayerID: "p1", Name: "Sir Aria the 2nd", InGameLevel: 1}},
		{"zero currency", `{"name":"A","inGameCurrency":0}`, players.Profile{PlayerID: "p1", Name: "A", InGameLevel: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := handler.DecodeProfile("p1", []byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeProfile: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeProfileRefusals(t *testing.T) {
	tests := []struct {
		name, playerID, body, want string
	}{
		{"empty body", "p1", ``, "request body is empty"},
		{"not an object", "p1", `[]`, "must be an object"},
		{"null", "p1", `null`, "must be a JSON object"},
		{"malformed", "p1", `{"name":`, "malformed JSON"},
		{"trailing data", "p1", `{"name":"A"} {}`, "data after the JSON value"},
		{"missing name", "p1", `{"inGameLevel":3}`, `missing field "name"`},
		{"name null", "p1", `{"name":null}`, `missing field "name"`},
		{"name empty", "p1", `{"name":""}`, `"name" must not be empty`},
		{"name blank", "p1", `{"name":"   "}`, `"name" must not be empty or blank`},
		{"name too long", "p1", `{"name":"` + strings.Repeat("a", 65) + `"}`, `"name" is longer than 64`},
		{"name control character", "p1", `{"name":"a\u0000b"}`, `"name" holds a control`},
		{"name newline", "p1", `{"name":"a\nb"}`, `"name" holds a control`},
		{"name not a string", "p1", `{"name":5}`, `"name" must be a string`},
		{"avatar http", "p1", `{"name":"A","avatarUrl":"http://cdn.example.com/a.png"}`, `"avatarUrl" must be an absolute https URL`},
		{"avatar relative", "p1", `{"name":"A","avatarUrl":"/a.png"}`, `"avatarUrl"`},
		{"avatar no host", "p1", `{"name":"A","avatarUrl":"https:///a.png"}`, `"avatarUrl"`},
		{"avatar opaque", "p1", `{"name":"A","avatarUrl":"https:a.png"}`, `"avatarUrl"`},
		{"avatar user info", "p1", `{"name":"A","avatarUrl":"https://u:p@cdn.example.com/a.png"}`, `"avatarUrl"`},
		{"avatar space", "p1", `{"name":"A","avatarUrl":"https://cdn.example.com/a b.png"}`, `"avatarUrl"`},
		{"avatar javascript", "p1", `{"name":"A","avatarUrl":"javascript:alert(1)"}`, `"avatarUrl"`},
		{"avatar too long", "p1", `{"name":"A","avatarUrl":"https://cdn.example.com/` + strings.Repeat("a", 2048) + `"}`, `"avatarUrl"`},
		{"avatar empty", "p1", `{"name":"A","avatarUrl":""}`, `"avatarUrl"`},
		{"language bad", "p1", `{"name":"A","language":"english please"}`, `"language" must be a language tag`},
		{"language bad, whole message", "p1", `{"name":"A","language":"en_US"}`, `field "language" must be a language tag such as "en" or "pt-BR" (2 to 35 characters), got "en_US"`},
		{"language number", "p1", `{"name":"A","language":1}`, `"language" must be a string`},
		{"level zero", "p1", `{"name":"A","inGameLevel":0}`, `"inGameLevel" must be at least 1, got 0`},
		{"level negative", "p1", `{"name":"A","inGameLevel":-3}`, `"inGameLevel" must be at least 1`},
		{"level fraction", "p1", `{"name":"A","inGameLevel":1.5}`, `"inGameLevel" must be an integer`},
		{"level exponent", "p1", `{"name":"A","inGameLevel":1e3}`, `"inGameLevel" must be an integer`},
		{"level overflow", "p1", `{"name":"A","inGameLevel":9223372036854775808}`, `"inGameLevel" must be an integer`},
		{"level boolean", "p1", `{"name":"A","inGameLevel":true}`, `"inGameLevel" must be an integer`},
		{"level object", "p1", `{"name":"A","inGameLevel":{}}`, `"inGameLevel" must be an integer`},
		{"currency negative", "p1", `{"name":"A","inGameCurrency":-1}`, `"inGameCurrency" must not be negative`},
		{"currency 2^53", "p1", `{"name":"A","inGameCurrency":9007199254740992}`, `"inGameCurrency" must be at most 9007199254740991 (2^53-1), got 9007199254740992`},
		{"currency int64 max", "p1", `{"name":"A","inGameCurrency":9223372036854775807}`, `"inGameCurrency" must be at most 9007199254740991`},
		{"currency 2^53 as a string", "p1", `{"name":"A","inGameCurrency":"9007199254740992"}`, `"inGameCurrency" must be at most`},
		{"level 2^53", "p1", `{"name":"A","inGameLevel":9007199254740992}`, `"inGameLevel" must be at most 9007199254740991 (2^53-1), got 9007199254740992`},
		{"currency list", "p1", `{"name":"A","inGameCurrency":[{"id":"gems","amount":5}]}`, `"inGameCurrency" must be an integer`},
		{"unknown field", "p1", `{"name":"A","avatarURL":"https://cdn.example.com/a.png"}`, `unknown field "avatarURL"`},
		{"snake_case is unknown", "p1", `{"name":"A","in_game_level":3}`, `unknown field "in_game_level"`},
		{"playerId of another player", "p1", `{"playerId":"p2","name":"A"}`, `"playerId" is "p2", but the path names player "p1"`},
		{"playerId not a string", "p1", `{"playerId":1,"name":"A"}`, `"playerId" must be a string`},
		{"path player id too long", strings.Repeat("x", 129), `{"name":"A"}`, `"playerId" is longer than 128`},
		{"path player id empty", "", `{"name":"A"}`, `"playerId" must not be empty`},
		{"invalid UTF-8", "p1", "{\"name\":\"\xff\"}", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := handler.DecodeProfile(tt.playerID, []byte(tt.body))
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v, want a *decode.Error", err)
			}
			if !strings.Contains(de.Message, tt.want) {
				t.Errorf("message %q, want it to contain %q", de.Message, tt.want)
			}
		})
	}
}

// FuzzDecodeProfile: any body either decodes into a profile that obeys every
// rule or is refused with a *decode.Error (a 400) naming the problem;
// nothing panics.
func FuzzDecodeProfile(f *testing.F) {
	for _, s := range []string{
		`{"name":"Aria","avatarUrl":"https://cdn.example.com/a.png","language":"en","inGameLevel":12,"inGameCurrency":1500}`,
		`{"name":"Aria","inGameLevel":"7","inGameCurrency":"0"}`,
		`{"name":"   "}`, `{"name":null}`, `[]`, `null`, `{}`, `{"name":"A","inGameLevel":1e400}`,
	} {
		f.Add("p1", []byte(s))
	}
	f.Fuzz(func(t *testing.T, playerID string, body []byte) {
		p, err := handler.DecodeProfile(playerID, body)
		if err != nil {
			var de *decode.Error
			if !errors.As(err, &de) || de.Message == "" {
				t.Fatalf("refusal %v (%T) is not a *decode.Error with a message", err, err)
			}
			return
		}
		if p.PlayerID != playerID || validate.ID(p.PlayerID) != nil {
			t.Fatalf("accepted player id %q for path %q", p.PlayerID, playerID)
		}
		if n := utf8.RuneCountInString(p.Name); n < 1 || n > handler.MaxNameLength || strings.TrimSpace(p.Name) == "" ||
			strings.IndexFunc(p.Name, func(r rune) bool { return !unicode.IsGraphic(r) }) >= 0 {
			t.Fatalf("accepted name %q", p.Name)
		}
		if p.AvatarURL != "" && (!strings.HasPrefix(p.AvatarURL, "https://") || len(p.AvatarURL) > handler.MaxAvatarURLLength) {
			t.Fatalf("accepted avatarUrl %q", p.AvatarURL)
		}
		if p.Language != "" && validate.Language(p.Language) != nil {
			t.Fatalf("accepted language %q", p.Language)
		}
		if p.InGameLevel < 1 || p.InGameCurrency < 0 || p.InGameLevel > handler.MaxProfileNumber || p.InGameCurrency > handler.MaxProfileNumber {
			t.Fatalf("accepted level %d currency %d", p.InGameLevel, p.InGameCurrency)
		}
		if !p.UpdatedAt.IsZero() {
			t.Fatalf("decoder set UpdatedAt")
		}
	})
}
