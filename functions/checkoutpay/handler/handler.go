// Package handler serves GET and POST /s/{store_slug}/pay/{order_id}/ (the pay page): an HTML page of the hosted
// checkout (shared/checkoutweb over shared/checkout).
package handler

import (
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/checkoutweb"
	"github.com/tollgate-dev/tollgate/shared/deps"
)

// New builds the handler.
func New(d deps.Deps) (http.Handler, error) {
	p, err := checkoutweb.Open(d)
	if err != nil {
		return nil, err
	}
	return p.Pay(), nil
}
