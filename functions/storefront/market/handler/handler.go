// Package handler serves GET /market/ (the marketplace): an HTML page of the hosted
// checkout (shared/storefront/checkoutweb over shared/storefront/checkout).
package handler

import "github.com/tollgate-dev/tollgate/shared/storefront/checkoutweb"

// New builds the handler.
var New = checkoutweb.Handler((*checkoutweb.Pages).Market)
