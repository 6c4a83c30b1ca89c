// Package handler serves GET and POST /portal/stores/{store_slug}/{page+} (the partner portal: settings, products, API keys, license keys): HTML pages of shared/storefront/portalweb.
package handler

import "github.com/tollgate-dev/tollgate/shared/storefront/portalweb"

// New builds the handler.
var New = portalweb.Handler((*portalweb.Pages).Store)
