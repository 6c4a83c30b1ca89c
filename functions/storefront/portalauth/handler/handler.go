// Package handler serves GET and POST /portal/{slash+} (the partner portal: sign-in, sign-out, invitations, the member's stores and passkeys): HTML pages of shared/storefront/portalweb.
package handler

import "github.com/tollgate-dev/tollgate/shared/storefront/portalweb"

// New builds the handler.
var New = portalweb.MailingHandler((*portalweb.Pages).Auth)
