package portal_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

const base = "https://portal.example"

var start = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// clock is the injected clock of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sent is one email the portal asked to send.
type sent struct {
	Kind, To, Link, StoreName, Slug, Inviter string
	Role                                     portal.Role
	Expires                                  time.Time
}

// outbox is the tests' portal.Mailer (the portal's own interface): it
// keeps what was asked.
type outbox struct {
	mu   sync.Mutex
	msgs []sent
	fail error
}

func (o *outbox) SignInLink(_ context.Context, to, link string, expires time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, sent{Kind: "signin", To: to, Link: link, Expires: expires})
	return o.fail
}

func (o *outbox) Invitation(_ context.Context, to, storeName, slug string, role portal.Role, inviter, link string, expires time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, sent{Kind: "invite", To: to, Link: link, StoreName: storeName, Slug: slug, Role: role, Inviter: inviter, Expires: expires})
	return o.fail
}

func (o *outbox) all() []sent {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]sent(nil), o.msgs...)
}

// last is the token of the last email's link.
func (o *outbox) last(t *testing.T) string {
	t.Helper()
	msgs := o.all()
	if len(msgs) == 0 {
		t.Fatal("no email sent")
	}
	link := msgs[len(msgs)-1].Link
	i := strings.LastIndex(link, "token=")
	if i < 0 {
		t.Fatalf("no token in %q", link)
	}
	return link[i+len("token="):]
}

type env struct {
	*ddbtest.Env
	svc   *portal.Service
	mail  *outbox
	clock *clock
	st    dynamo.Store
}

var operator = portal.Actor{Email: "operator"}

func newEnv(t *testing.T, b ddbtest.Backend, slugs ...string) *env {
	t.Helper()
	e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{})
	c := &clock{t: start}
	st := dynamo.Store{DB: e.Stack.DB, Tables: e.Tables}
	st.Tables.Portal = e.Stack.TableName("PortalTable")
	mail := &outbox{}
	svc := portal.New(st, ratelimit.Limiter{DB: e.Stack.DB, Table: e.Tables.RateLimit}, mail, c.Now)
	f := stores.File{}
	for _, s := range slugs {
		f.Stores = append(f.Stores, stores.FileStore{Slug: s, Name: "Store " + s})
	}
	if len(f.Stores) > 0 {
		if _, err := (stores.Admin{DB: e.Stack.DB, Table: e.Tables.Stores, Now: c.Now}).Import(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	return &env{Env: e, svc: svc, mail: mail, clock: c, st: st}
}

// join invites email to slug as r and accepts: the member's session token.
func (e *env) join(t *testing.T, slug, email string, r portal.Role) string {
	t.Helper()
	ctx := context.Background()
	if err := e.svc.Invite(ctx, operator, slug, email, r, base); err != nil {
		t.Fatalf("invite %s to %s: %v", email, slug, err)
	}
	tok, _, err := e.svc.AcceptInvite(ctx, e.mail.last(t), "192.0.2.1")
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	return tok
}

// signIn signs email in with a link: the session token.
func (e *env) signIn(t *testing.T, email string) string {
	t.Helper()
	ctx := context.Background()
	if err := e.svc.RequestLink(ctx, email, "nonce-"+email, "192.0.2.9", base); err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.svc.RedeemLink(ctx, e.mail.last(t), "nonce-"+email, "192.0.2.9")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func each(t *testing.T, f func(t *testing.T, b ddbtest.Backend)) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

// A sign-in link: mailed to a member only, bound to the browser that asked,
// used once; the sign-in is in the audit log of each of the member's stores.
func TestSignInLink(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop", "other")
		ctx := context.Background()
		e.join(t, "shop", "owner@example.com", portal.RoleOwner)
		e.join(t, "other", "owner@example.com", portal.RoleSupport)
		before := len(e.mail.all())
		if err := e.svc.RequestLink(ctx, " Owner@Example.com ", "browser-1", "198.51.100.7", base); err != nil {
			t.Fatal(err)
		}
		msgs := e.mail.all()
		if len(msgs) != before+1 || msgs[before].To != "owner@example.com" || !strings.HasPrefix(msgs[before].Link, base+portal.SignInLinkPath) ||
			!msgs[before].Expires.Equal(start.Add(portal.LinkTTL)) {
			t.Fatalf("emails %+v", msgs[before:])
		}
		token := e.mail.last(t)
		if _, _, err := e.svc.RedeemLink(ctx, token, "browser-2", "198.51.100.7"); !errors.Is(err, portal.ErrLinkInvalid) {
			t.Fatalf("another browser: %v, want ErrLinkInvalid", err)
		}
		e.clock.Add(time.Minute)
		sessTok, sess, err := e.svc.RedeemLink(ctx, token, "browser-1", "198.51.100.7")
		if err != nil || sess.Email != "owner@example.com" || sess.Method != portal.MethodLink || !sess.AuthAt.Equal(start.Add(time.Minute)) {
			t.Fatalf("redeem: %+v, %v", sess, err)
		}
		got, err := e.svc.Session(ctx, sessTok)
		if err != nil || got.ID != sess.ID || !got.Recent(e.clock.Now()) {
			t.Fatalf("session %+v, %v", got, err)
		}
		if _, _, err := e.svc.RedeemLink(ctx, token, "browser-1", "198.51.100.7"); !errors.Is(err, portal.ErrLinkInvalid) {
			t.Fatalf("second use: %v, want ErrLinkInvalid", err)
		}
		for _, slug := range []string{"shop", "other"} {
			log, _, err := e.svc.Audit(ctx, slug, "", 10)
			if err != nil || len(log) == 0 || log[0].Action != portal.ActionSignIn || log[0].Detail != portal.MethodLink ||
				log[0].IP != "198.51.100.7" || log[0].Actor != "owner@example.com" {
				t.Fatalf("audit of %s: %+v, %v", slug, log, err)
			}
		}
	})
}

// 20 concurrent redeems of one link: exactly one session.
func TestSignInLinkConcurrent(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop")
		ctx := context.Background()
		e.join(t, "shop", "dev@example.com", portal.RoleDeveloper)
		if err := e.svc.RequestLink(ctx, "dev@example.com", "n1", "192.0.2.3", base); err != nil {
			t.Fatal(err)
		}
		token := e.mail.last(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		for range 20 {
			wg.Go(func() {
				tok, _, err := e.svc.RedeemLink(ctx, token, "n1", "192.0.2.3")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, tok)
				case !errors.Is(err, portal.ErrLinkInvalid):
					t.Errorf("redeem: %v", err)
				}
			})
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("%d sessions from one link, want 1", len(won))
		}
		if _, err := e.svc.Session(ctx, won[0]); err != nil {
			t.Fatal(err)
		}
	})
}

// A link expires after 15 minutes.
func TestSignInLinkExpiry(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop")
		ctx := context.Background()
		e.join(t, "shop", "a@example.com", portal.RoleSupport)
		if err := e.svc.RequestLink(ctx, "a@example.com", "n", "192.0.2.3", base); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(portal.LinkTTL)
		if _, _, err := e.svc.RedeemLink(ctx, e.mail.last(t), "n", "192.0.2.3"); !errors.Is(err, portal.ErrLinkInvalid) {
			t.Fatalf("expired link: %v, want ErrLinkInvalid", err)
		}
	})
}

// An unknown address gets the same answer and no email; both it and a
// member's address are rate limited, per address and per IP.
func TestRequestLinkUnknownAndLimited(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop")
		ctx := context.Background()
		e.join(t, "shop", "known@example.com", portal.RoleOwner)
		e.svc.LinkPerEmail.Limit = 3
		e.svc.LinkPerIP.Limit = 8
		before := len(e.mail.all())
		for _, addr := range []string{"known@example.com", "nobody@example.com"} {
			for i := range 4 {
				err := e.svc.RequestLink(ctx, addr, "n", "203.0.113.5", base)
				if i < 3 && err != nil {
					t.Fatalf("%s request %d: %v", addr, i+1, err)
				}
				var rl *portal.RateLimitedError
				if i == 3 && (!errors.As(err, &rl) || !errors.Is(err, portal.ErrRateLimited) || rl.RetryAfter <= 0 || rl.RetryAfter > 15*time.Minute) {
					t.Fatalf("%s request 4: %v, want a rate-limit refusal", addr, err)
				}
			}
		}
		msgs := e.mail.all()[before:]
		if len(msgs) != 3 {
			t.Fatalf("%d emails, want 3 (to the member only): %+v", len(msgs), msgs)
		}
		for _, m := range msgs {
			if m.To != "known@example.com" {
				t.Fatalf("email to %s", m.To)
			}
		}
		// 8 requests counted for the IP: the next, for a fresh address, is refused.
		if err := e.svc.RequestLink(ctx, "fresh@example.com", "n", "203.0.113.5", base); !errors.Is(err, portal.ErrRateLimited) {
			t.Fatalf("over the IP's limit: %v", err)
		}
		if err := e.svc.RequestLink(ctx, "fresh@example.com", "n", "203.0.113.6", base); err != nil {
			t.Fatalf("another IP: %v", err)
		}
		e.clock.Add(15 * time.Minute)
		if err := e.svc.RequestLink(ctx, "known@example.com", "n", "203.0.113.5", base); err != nil {
			t.Fatalf("next window: %v", err)
		}
		if err := e.svc.RequestLink(ctx, "not an address", "n", "203.0.113.6", base); !errors.Is(err, portal.ErrEmail) {
			t.Fatalf("bad address: %v", err)
		}
		if err := e.svc.RequestLink(ctx, "known@example.com", "", "203.0.113.6", base); !errors.Is(err, portal.ErrNoNonce) {
			t.Fatalf("no browser nonce: %v", err)
		}
		// A send that fails is not told either: the answer would say the address is a member's.
		e.mail.fail = errors.New("mail service down")
		if err := e.svc.RequestLink(ctx, "known@example.com", "n", "203.0.113.6", base); err != nil {
			t.Fatalf("failed send: %v", err)
		}
	})
}
