// Package handler serves GET and POST /portal/stores/{store_slug}/team|audit/ (the partner portal: members, roles, invitations, audit log): HTML pages of shared/storefront/portalweb.
package handler

import "github.com/tollgate-dev/tollgate/shared/storefront/portalweb"

// New builds the handler.
var New = portalweb.MailingHandler((*portalweb.Pages).Team)
