package portalweb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
)

// openAccounts is the portal's accounts service of d: its tables, the
// rate-limit table for sign-in requests, and — for the families that send
// the portal's emails (sign-in links, invitations) — its mailer. The
// others get noMail: they have no mail settings and no SES permission.
func openAccounts(d deps.Deps, mails bool) (*portal.Service, error) {
	if d.Store.Tables.Portal == "" {
		return nil, fmt.Errorf("portalweb: PORTAL_TABLE must be set")
	}
	var mailer portal.Mailer = noMail{}
	if mails {
		m, err := NewMailer(context.Background(), d.Getenv, d.Logger, d.Now)
		if err != nil {
			return nil, err
		}
		mailer = m
	}
	svc := portal.New(d.Store, ratelimit.Limiter{DB: d.Store.DB, Table: d.Store.Tables.RateLimit}, mailer, d.Now)
	svc.Logger = d.Logger
	return svc, nil
}

// noMail is the mailer of a family that sends no email: a send is a
// programming error, refused.
type noMail struct{}

var errNoMail = errors.New("portalweb: this function sends no email")

func (noMail) SignInLink(context.Context, string, string, time.Time) error { return errNoMail }
func (noMail) Invitation(context.Context, string, string, string, portal.Role, string, string, time.Time) error {
	return errNoMail
}
