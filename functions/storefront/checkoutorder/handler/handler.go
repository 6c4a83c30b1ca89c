// Package handler serves GET /s/{store_slug}/orders/{order_id}/ (the order page): an HTML page of the hosted
// checkout (shared/storefront/checkoutweb over shared/storefront/checkout).
package handler

import "github.com/tollgate-dev/tollgate/shared/storefront/checkoutweb"

// New builds the handler.
var New = checkoutweb.Handler((*checkoutweb.Pages).Order)
