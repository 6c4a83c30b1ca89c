// Package handler implements GET /api/v1/tax/rates/?country=<ISO2>[&subdivision=<code>]
// (with or without the trailing slash): public, limited per client IP,
// answered from the dataset embedded in the binary (shared/storefront/tax) and
// cacheable (ETag, 304).
package handler

import (
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/storefront/geo"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/storeapi"
	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

// New builds the handler.
func New(d deps.Deps) (http.Handler, error) {
	p, err := storeapi.PublicPolicy(d)
	if err != nil {
		return nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		country, err := storeapi.OneParam(q, "country")
		if err == nil {
			country, err = geo.Country("country", country)
		}
		var sub string
		if err == nil {
			sub, err = storeapi.OneParam(q, "subdivision")
		}
		var rates tax.Rates
		if err == nil {
			rates, err = tax.For(country, sub)
		}
		if err != nil {
			storeapi.WriteFailure(w, r, d.Logger, "tax rates", err)
			return
		}
		c, err := storeapi.NewCacheable(rates)
		if err != nil {
			storeapi.WriteFailure(w, r, d.Logger, "tax rates", err)
			return
		}
		c.Write(w, r, storeapi.PublicMaxAge)
	})
	return storeapi.LimitByIP(ratelimit.Limiter{DB: d.Store.DB, Table: d.Store.Tables.RateLimit}, p, d.Now, d.Logger, h), nil
}
