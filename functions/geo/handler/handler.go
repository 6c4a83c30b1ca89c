// Package handler implements GET /api/v1/geo/subdivisions/?country=<ISO2>
// (with or without the trailing slash): public, limited per client IP,
// answered from data embedded in the binary and cacheable (ETag, 304).
package handler

import (
	"net/http"
	"net/url"
	"time"

	"github.com/tollgate-dev/tollgate/shared/decode"
	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/geo"
	"github.com/tollgate-dev/tollgate/shared/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storeapi"
)

// Settings.
const (
	EnvRateLimit = "PUBLIC_RATE_LIMIT" // requests per window (ratelimit.EnvWindow) per client IP (default 300)
	// MaxAge is how long clients and caches may keep an answer.
	MaxAge = 24 * time.Hour
)

// Answer is a country's subdivisions.
type Answer struct {
	Country      string            `json:"country"`
	Subdivisions []geo.Subdivision `json:"subdivisions"`
}

// New builds the handler.
func New(d deps.Deps) (http.Handler, error) {
	p, err := Policy(d, "geo")
	if err != nil {
		return nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		country, err := OneParam(r.URL.Query(), "country")
		if err == nil {
			country, err = geo.Country("country", country)
		}
		if err != nil {
			storeapi.WriteFailure(w, r, d.Logger, "subdivisions", err)
			return
		}
		c, err := storeapi.NewCacheable(Answer{Country: country, Subdivisions: geo.Subdivisions(country)})
		if err != nil {
			storeapi.WriteFailure(w, r, d.Logger, "subdivisions", err)
			return
		}
		c.Write(w, r, MaxAge)
	})
	return storeapi.LimitByIP(ratelimit.Limiter{DB: d.Store.DB, Table: d.Store.Tables.RateLimit}, p, d.Now, d.Logger, h), nil
}

// Policy is the per-IP limit of the public endpoints.
func Policy(d deps.Deps, name string) (ratelimit.Policy, error) {
	return ratelimit.Configured(d, name, EnvRateLimit, 300)
}

// OneParam reads query parameter name given at most once ("" when absent).
func OneParam(q url.Values, name string) (string, error) {
	v := q[name]
	if len(v) > 1 {
		return "", decode.Errorf("query parameter %q is given %d times", name, len(v))
	}
	if len(v) == 0 {
		return "", nil
	}
	return v[0], nil
}
