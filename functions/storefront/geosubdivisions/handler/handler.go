// Package handler implements GET /api/v1/geo/subdivisions/?country=<ISO2>
// (with or without the trailing slash): public, limited per client IP,
// answered from data embedded in the binary and cacheable (ETag, 304).
package handler

import (
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/storefront/geo"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/storeapi"
)

// Answer is a country's subdivisions.
type Answer struct {
	Country      string            `json:"country"`
	Subdivisions []geo.Subdivision `json:"subdivisions"`
}

// New builds the handler.
func New(d deps.Deps) (http.Handler, error) {
	p, err := storeapi.PublicPolicy(d)
	if err != nil {
		return nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		country, err := storeapi.OneParam(r.URL.Query(), "country")
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
		c.Write(w, r, storeapi.PublicMaxAge)
	})
	return storeapi.LimitByIP(ratelimit.Limiter{DB: d.Store.DB, Table: d.Store.Tables.RateLimit}, p, d.Now, d.Logger, h), nil
}
