package portal_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

// A fault at every DynamoDB call of asking for a sign-in link and of
// inviting, a lost answer included: exactly one email, whose link works.
func TestRequestFaults(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop")
		ctx := context.Background()
		e.join(t, "shop", "owner@example.com", portal.RoleOwner)
		e.svc.LinkPerEmail.Limit, e.svc.LinkPerIP.Limit = 1000, 1000
		n := 0
		for _, c := range []struct {
			name string
			ask  func() error
			use  func(token string) error
		}{
			{"link", func() error { return e.svc.RequestLink(ctx, "owner@example.com", "nonce", "192.0.2.1", base) },
				func(tok string) error { _, _, err := e.svc.RedeemLink(ctx, tok, "nonce", ""); return err }},
			{"invite", func() error {
				n++
				return e.svc.Invite(ctx, portal.Actor{Email: "owner@example.com"}, "shop", fmt.Sprintf("i%d@example.com", n), portal.RoleSupport, base)
			}, func(tok string) error { _, _, err := e.svc.AcceptInvite(ctx, tok, ""); return err }},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.Transport.Reset()
				if err := c.ask(); err != nil {
					t.Fatal(err)
				}
				ddbtest.Sweep(t, e.Transport.Calls(), func(t *testing.T, inject func(int, string) ddbtest.Fault) {
					before := len(e.mail.all())
					e.Transport.Reset()
					e.Transport.Inject(inject)
					err := c.ask()
					e.Transport.Inject(nil)
					if err != nil {
						t.Fatalf("under the fault: %v", err)
					}
					if got := len(e.mail.all()) - before; got != 1 {
						t.Fatalf("%d emails, want 1", got)
					}
					if err := c.use(e.mail.last(t)); err != nil {
						t.Fatalf("its link: %v", err)
					}
				})
			})
		}
	})
}

// A fault at every DynamoDB call of redeeming a sign-in link and of
// accepting an invitation, a lost answer included: the sign-in still
// succeeds, once (the SDK sends a transaction again after a lost answer;
// its new session, already there, says it was written).
func TestSignInFaults(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop")
		ctx := context.Background()
		e.join(t, "shop", "owner@example.com", portal.RoleOwner)
		e.svc.LinkPerEmail.Limit, e.svc.LinkPerIP.Limit = 1000, 1000
		n := 0
		link := func(t *testing.T) string {
			if err := e.svc.RequestLink(ctx, "owner@example.com", "nonce", "192.0.2.1", base); err != nil {
				t.Fatal(err)
			}
			return e.mail.last(t)
		}
		invite := func(t *testing.T) string {
			n++
			if err := e.svc.Invite(ctx, portal.Actor{Email: "owner@example.com"}, "shop", fmt.Sprintf("m%d@example.com", n), portal.RoleSupport, base); err != nil {
				t.Fatal(err)
			}
			return e.mail.last(t)
		}
		for _, c := range []struct {
			name   string
			setup  func(*testing.T) string
			signIn func(token string) (string, portal.Session, error)
			again  error
		}{
			{"redeem", link, func(tok string) (string, portal.Session, error) {
				return e.svc.RedeemLink(ctx, tok, "nonce", "192.0.2.1")
			}, portal.ErrLinkInvalid},
			{"accept", invite, func(tok string) (string, portal.Session, error) { return e.svc.AcceptInvite(ctx, tok, "192.0.2.1") }, portal.ErrInvite},
		} {
			t.Run(c.name, func(t *testing.T) {
				tok := c.setup(t)
				e.Transport.Reset()
				if _, _, err := c.signIn(tok); err != nil {
					t.Fatal(err)
				}
				calls := e.Transport.Calls()
				ddbtest.Sweep(t, calls, func(t *testing.T, inject func(int, string) ddbtest.Fault) {
					tok := c.setup(t)
					e.Transport.Reset()
					e.Transport.Inject(inject)
					sessTok, sess, err := c.signIn(tok)
					e.Transport.Inject(nil)
					if err != nil {
						t.Fatalf("sign-in under the fault: %v", err)
					}
					if got, err := e.svc.Session(ctx, sessTok); err != nil || got.ID != sess.ID {
						t.Fatalf("session %+v, %v", got, err)
					}
					if _, _, err := c.signIn(tok); !errors.Is(err, c.again) {
						t.Fatalf("used again: %v", err)
					}
				})
			})
		}
	})
}
