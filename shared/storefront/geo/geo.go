// Package geo answers ISO 3166 questions from data embedded in the binary:
// whether a country code exists and a country's ISO 3166-2 subdivisions
// (github.com/biter777/countries v1.7.5, BSD-2-Clause, whose data comes
// from Debian's iso-codes).
package geo

import (
	"errors"
	"sort"
	"strings"

	"github.com/biter777/countries"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// Reasons of refusals.
var (
	ErrUnknownCountry     = errors.New("geo: unknown country")
	ErrUnknownSubdivision = errors.New("geo: unknown subdivision")
)

// Source names the data, for answers and docs/store-platform.md.
const Source = "ISO 3166-2 via github.com/biter777/countries v1.7.5 (BSD-2-Clause; data from Debian iso-codes)"

// Country checks an ISO 3166-1 alpha-2 code given in any case and returns
// it in upper case: missing or not two letters is a *decode.Error naming
// field; two letters naming no country is a refusal (ErrUnknownCountry).
func Country(field, s string) (string, error) {
	if s == "" {
		return "", decode.Errorf("missing query parameter %q (an ISO 3166-1 alpha-2 code such as US)", field)
	}
	if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
		return "", decode.Errorf("query parameter %q must be an ISO 3166-1 alpha-2 code such as US, got %q", field, decode.Truncate(s, 16))
	}
	up := strings.ToUpper(s)
	c := countries.ByName(up)
	if c == countries.Unknown || c.Alpha2() != up {
		return "", refusal.New(ErrUnknownCountry, "no country %q in ISO 3166-1", up)
	}
	return up, nil
}

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }

// Subdivision is an ISO 3166-2 subdivision; Code is without the country
// prefix ("AL" for US-AL).
type Subdivision struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Subdivisions returns country's subdivisions sorted by code (empty for a
// country without any). country must be what Country returned.
func Subdivisions(country string) []Subdivision {
	c := countries.ByName(country)
	out := []Subdivision{}
	for _, s := range c.Subdivisions() {
		code, ok := strings.CutPrefix(string(s), country+"-")
		if !ok || !s.IsValid() {
			continue
		}
		out = append(out, Subdivision{Code: code, Name: s.String()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}
