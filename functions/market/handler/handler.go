// Package handler serves GET /market/ (the marketplace): an HTML page of the hosted
// checkout (shared/checkoutweb over shared/checkout).
package handler

import "github.com/tollgate-dev/tollgate/shared/checkoutweb"

// New builds the handler.
var New = checkoutweb.Handler((*checkoutweb.Pages).Market)
