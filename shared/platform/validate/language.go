package validate

import (
	"errors"
	"strconv"
	"strings"
)

// MaxLanguageLength is the longest language tag accepted, in characters:
// BCP 47 tags in practice; ISO 639-1 codes ("en") are 2.
const MaxLanguageLength = 35

// ErrLanguage is Language's refusal.
var ErrLanguage = errors.New(`must be a language tag such as "en" or "pt-BR" (2 to ` + strconv.Itoa(MaxLanguageLength) + " characters)")

// Language checks a language tag: an ISO 639-1 code ("en") or a BCP 47 tag
// ("pt-BR", "zh-Hant-TW"), 2 to MaxLanguageLength characters: a primary
// subtag of 2–8 letters, then "-"-separated subtags of 1–8 letters or
// digits. Stash's lookups and the game server's profiles name languages
// this way. Whether the tag is registered is not checked.
func Language(s string) error {
	if len(s) < 2 || len(s) > MaxLanguageLength {
		return ErrLanguage
	}
	rest := s
	for i := 0; ; i++ {
		sub, tail, more := strings.Cut(rest, "-")
		if len(sub) < 1 || len(sub) > 8 || (i == 0 && len(sub) < 2) {
			return ErrLanguage
		}
		for j := 0; j < len(sub); j++ {
			c := sub[j]
			if !isLetter(c) && (i == 0 || c < '0' || c > '9') {
				return ErrLanguage
			}
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }
