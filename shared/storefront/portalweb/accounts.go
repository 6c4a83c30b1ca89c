package portalweb

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
)

// openAccounts is the portal's accounts service of d: its tables, the
// rate-limit table for sign-in requests, and the mailer of its emails.
func openAccounts(d deps.Deps) (*portal.Service, error) {
	if d.Store.Tables.Portal == "" {
		return nil, fmt.Errorf("portalweb: PORTAL_TABLE must be set")
	}
	mailer, err := NewMailer(d)
	if err != nil {
		return nil, err
	}
	svc := portal.New(d.Store, ratelimit.Limiter{DB: d.Store.DB, Table: d.Store.Tables.RateLimit}, mailer, d.Now)
	svc.Logger = d.Logger
	return svc, nil
}
