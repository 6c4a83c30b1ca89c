// Package handler serves GET and POST /portal/stores/{store_slug}/orders|webhooks|overview/ (the partner portal: overview, orders and refunds, webhook deliveries): HTML pages of shared/storefront/portalweb.
package handler

import "github.com/tollgate-dev/tollgate/shared/storefront/portalweb"

// New builds the handler.
var New = portalweb.Handler((*portalweb.Pages).Orders)
