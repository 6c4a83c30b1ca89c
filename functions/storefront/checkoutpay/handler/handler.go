// Package handler serves GET and POST /s/{store_slug}/pay/{order_id}/ (the pay page): an HTML page of the hosted
// checkout (shared/storefront/checkoutweb over shared/storefront/checkout).
package handler

import "github.com/tollgate-dev/tollgate/shared/storefront/checkoutweb"

// New builds the handler.
var New = checkoutweb.Handler((*checkoutweb.Pages).Pay)
