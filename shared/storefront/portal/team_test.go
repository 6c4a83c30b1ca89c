package portal_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

// A session ends after 2 hours unused or 12 hours after it began; it is
// touched at most every 5 minutes, so most reads cost one GetItem; signing
// out ends it.
func TestSessionLifetime(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop")
		ctx := context.Background()
		tok := e.join(t, "shop", "m@example.com", portal.RoleOwner)
		count := func() (portal.Session, int, error) {
			c := &ddbcalls.Counter{}
			s, err := e.svc.Session(ddbcalls.WithCounter(ctx, c), tok)
			return s, c.Total(), err
		}
		if _, n, err := count(); err != nil || n != 1 {
			t.Fatalf("fresh session: %d calls, %v", n, err)
		}
		e.clock.Add(4 * time.Minute)
		if s, n, err := count(); err != nil || n != 1 || !s.LastSeen.Equal(start) || !s.Recent(e.clock.Now()) {
			t.Fatalf("within 5 minutes: %+v, %d calls, %v", s, n, err)
		}
		e.clock.Add(7 * time.Minute) // 11 minutes: touched, no longer a recent sign-in
		if s, n, err := count(); err != nil || n != 2 || !s.LastSeen.Equal(start.Add(11*time.Minute)) || s.Recent(e.clock.Now()) {
			t.Fatalf("after 11 minutes: %+v, %d calls, %v", s, n, err)
		}
		// Idle: 2 hours after the touch it has ended.
		e.clock.Add(portal.SessionIdle - time.Second)
		if _, _, err := count(); err != nil {
			t.Fatalf("just under idle: %v", err)
		}
		e.clock.Add(portal.SessionIdle)
		if _, _, err := count(); !errors.Is(err, portal.ErrNoSession) {
			t.Fatalf("idle: %v, want ErrNoSession", err)
		}

		// Absolute: used every hour, it still ends 12 hours after it began.
		tok = e.signIn(t, "m@example.com")
		began := e.clock.Now()
		for e.clock.Now().Before(began.Add(portal.SessionMax - time.Hour)) {
			e.clock.Add(time.Hour)
			if _, _, err := count(); err != nil {
				t.Fatalf("at %s: %v", e.clock.Now().Sub(began), err)
			}
		}
		e.clock.Add(time.Hour)
		if _, _, err := count(); !errors.Is(err, portal.ErrNoSession) {
			t.Fatalf("after 12 hours: %v, want ErrNoSession", err)
		}

		tok = e.signIn(t, "m@example.com")
		if err := e.svc.SignOut(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, _, err := count(); !errors.Is(err, portal.ErrNoSession) {
			t.Fatalf("signed out: %v", err)
		}
		for _, bad := range []string{"", "x", string(make([]byte, 200))} {
			if _, err := e.svc.Session(ctx, bad); !errors.Is(err, portal.ErrNoSession) {
				t.Fatalf("token %q: %v", bad, err)
			}
		}
	})
}

// An invitation is used once (of 10 concurrent accepts one wins), expires
// after 7 days, and makes a member with the invited role; a newer
// invitation replaces an older one.
func TestInvitation(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop")
		ctx := context.Background()
		owner := portal.Actor{Email: "o@example.com", IP: "192.0.2.4"}
		e.join(t, "shop", owner.Email, portal.RoleOwner)
		if err := e.svc.Invite(ctx, owner, "shop", "Dev@Example.com", portal.RoleDeveloper, base); err != nil {
			t.Fatal(err)
		}
		m := e.mail.all()[len(e.mail.all())-1]
		if m.Kind != "invite" || m.To != "dev@example.com" || m.StoreName != "Store shop" || m.Role != portal.RoleDeveloper ||
			m.Inviter != owner.Email || !m.Expires.Equal(start.Add(portal.InviteTTL)) || m.Link[:len(base+portal.InvitePath)] != base+portal.InvitePath {
			t.Fatalf("invitation email %+v", m)
		}
		token := e.mail.last(t)
		inv, err := e.svc.Invitations(ctx, "shop")
		if err != nil || len(inv) != 1 || inv[0].Email != "dev@example.com" || inv[0].Role != portal.RoleDeveloper {
			t.Fatalf("pending %+v, %v", inv, err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 10 {
			wg.Go(func() {
				_, s, err := e.svc.AcceptInvite(ctx, token, "192.0.2.5")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && s.Email == "dev@example.com":
					wins++
				case !errors.Is(err, portal.ErrInvite):
					t.Errorf("accept: %+v, %v", s, err)
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d accepts won, want 1", wins)
		}
		if r, err := e.svc.Role(ctx, "dev@example.com", "shop"); err != nil || r != portal.RoleDeveloper {
			t.Fatalf("role %q, %v", r, err)
		}
		if inv, err := e.svc.Invitations(ctx, "shop"); err != nil || len(inv) != 0 {
			t.Fatalf("pending after accept %+v, %v", inv, err)
		}
		team, err := e.svc.Team(ctx, "shop")
		if err != nil || len(team) != 2 || team[0].Email != owner.Email || team[1].Email != "dev@example.com" {
			t.Fatalf("team %+v, %v", team, err)
		}
		if err := e.svc.Invite(ctx, owner, "shop", "dev@example.com", portal.RoleSupport, base); !errors.Is(err, portal.ErrMember) {
			t.Fatalf("invite a member: %v", err)
		}
		if err := e.svc.Invite(ctx, owner, "nope", "x@example.com", portal.RoleSupport, base); !errors.Is(err, portal.ErrNoStore) {
			t.Fatalf("invite to no store: %v", err)
		}

		// A newer invitation replaces the older; an invitation expires after 7 days.
		for range 2 {
			if err := e.svc.Invite(ctx, owner, "shop", "late@example.com", portal.RoleSupport, base); err != nil {
				t.Fatal(err)
			}
		}
		msgs := e.mail.all()
		older, newer := tokenOf(msgs[len(msgs)-2].Link), tokenOf(msgs[len(msgs)-1].Link)
		if _, _, err := e.svc.AcceptInvite(ctx, older, ""); !errors.Is(err, portal.ErrInvite) {
			t.Fatalf("replaced invitation: %v", err)
		}
		e.clock.Add(portal.InviteTTL)
		if _, _, err := e.svc.AcceptInvite(ctx, newer, ""); !errors.Is(err, portal.ErrInvite) {
			t.Fatalf("expired invitation: %v", err)
		}
		if _, err := e.svc.Role(ctx, "late@example.com", "shop"); !errors.Is(err, portal.ErrNotMember) {
			t.Fatalf("role after expiry: %v", err)
		}
		log, _, err := e.svc.Audit(ctx, "shop", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, a := range log {
			actions[a.Action]++
		}
		if actions[portal.ActionInvite] != 4 || actions[portal.ActionJoin] != 2 {
			t.Fatalf("audit %v", actions)
		}
	})
}

func tokenOf(link string) string { return link[len(base+portal.InvitePath):] }

// A store keeps an owner: the last one can be neither demoted nor
// removed, and of two owners demoting each other at once one succeeds.
func TestLastOwner(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop")
		ctx := context.Background()
		a := portal.Actor{Email: "a@example.com", IP: "192.0.2.1"}
		e.join(t, "shop", a.Email, portal.RoleOwner)
		if err := e.svc.SetRole(ctx, a, "shop", a.Email, portal.RoleDeveloper); !errors.Is(err, portal.ErrLastOwner) {
			t.Fatalf("demote the last owner: %v", err)
		}
		if err := e.svc.Remove(ctx, a, "shop", a.Email); !errors.Is(err, portal.ErrLastOwner) {
			t.Fatalf("remove the last owner: %v", err)
		}
		if err := e.svc.SetRole(ctx, a, "shop", "ghost@example.com", portal.RoleSupport); !errors.Is(err, portal.ErrNotMember) {
			t.Fatalf("set the role of no member: %v", err)
		}
		if err := e.svc.SetRole(ctx, a, "shop", a.Email, "admin"); !errors.Is(err, portal.ErrRole) {
			t.Fatalf("bad role: %v", err)
		}
		for round := range 3 {
			bEmail := fmt.Sprintf("b%d@example.com", round)
			e.join(t, "shop", bEmail, portal.RoleSupport)
			if err := e.svc.SetRole(ctx, a, "shop", bEmail, portal.RoleOwner); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Go(func() { errs[0] = e.svc.SetRole(ctx, a, "shop", a.Email, portal.RoleDeveloper) })
			wg.Go(func() { errs[1] = e.svc.Remove(ctx, a, "shop", bEmail) })
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, portal.ErrLastOwner):
					t.Fatalf("round %d: %v", round, err)
				}
			}
			team, err := e.svc.Team(ctx, "shop")
			if err != nil {
				t.Fatal(err)
			}
			owners := 0
			for _, m := range team {
				if m.Role == portal.RoleOwner {
					owners++
				}
			}
			if ok != 1 || owners != 1 {
				t.Fatalf("round %d: %d changes succeeded, %d owners left (%v); want 1 and 1", round, ok, owners, errs)
			}
			// Back to a as the one owner.
			if r, _ := e.svc.Role(ctx, a.Email, "shop"); r != portal.RoleOwner {
				if err := e.svc.SetRole(ctx, portal.Actor{Email: bEmail}, "shop", a.Email, portal.RoleOwner); err != nil {
					t.Fatal(err)
				}
				if err := e.svc.Remove(ctx, a, "shop", bEmail); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// Removing a member ends every session of theirs and their role; the
// change is in the audit log.
func TestRemoveEndsSessions(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop", "other")
		ctx := context.Background()
		owner := portal.Actor{Email: "o@example.com", IP: "192.0.2.4"}
		e.join(t, "shop", owner.Email, portal.RoleOwner)
		s1 := e.join(t, "shop", "gone@example.com", portal.RoleSupport)
		e.join(t, "other", "gone@example.com", portal.RoleOwner)
		s2 := e.signIn(t, "gone@example.com")
		keep := e.signIn(t, owner.Email)
		e.clock.Add(time.Second) // the removal is the newest entry
		if err := e.svc.Remove(ctx, owner, "shop", "gone@example.com"); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{s1, s2} {
			if _, err := e.svc.Session(ctx, tok); !errors.Is(err, portal.ErrNoSession) {
				t.Fatalf("session of a removed member: %v", err)
			}
		}
		if _, err := e.svc.Session(ctx, keep); err != nil {
			t.Fatalf("the owner's session: %v", err)
		}
		if _, err := e.svc.Role(ctx, "gone@example.com", "shop"); !errors.Is(err, portal.ErrNotMember) {
			t.Fatalf("role: %v", err)
		}
		if ms, err := e.svc.Memberships(ctx, "gone@example.com"); err != nil || len(ms) != 1 || ms[0].Slug != "other" || ms[0].Role != portal.RoleOwner {
			t.Fatalf("memberships %+v, %v", ms, err)
		}
		if err := e.svc.Remove(ctx, owner, "shop", "gone@example.com"); !errors.Is(err, portal.ErrNotMember) {
			t.Fatalf("remove again: %v", err)
		}
		log, _, err := e.svc.Audit(ctx, "shop", "", 1)
		if err != nil || len(log) != 1 || log[0].Action != portal.ActionRemoveMember || log[0].Detail != "gone@example.com" || log[0].Actor != owner.Email || log[0].IP != owner.IP {
			t.Fatalf("audit %+v, %v", log, err)
		}
	})
}

// The audit log reads newest first across months, a page at a time; each
// entry is shown once; a cursor not given by the log is refused.
func TestAuditPaging(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		table := e.st.Tables.Portal
		// 25 entries, 3 days apart: they span two months (Nov, Dec).
		at := start.Add(-74 * 24 * time.Hour)
		for i := range 25 {
			op := portal.AuditOp(table, "shop", portal.Actor{Email: "x@example.com", IP: "192.0.2.1"}, "test", fmt.Sprint(i), at.Add(time.Duration(i)*72*time.Hour))
			if err := e.st.Transact(ctx, []types.TransactWriteItem{op}); err != nil {
				t.Fatal(err)
			}
			// And one of another store, which never shows.
			if err := e.st.Transact(ctx, []types.TransactWriteItem{portal.AuditOp(table, "else", portal.Actor{}, "test", "x", at)}); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		cursor, pages := "", 0
		for {
			page, next, err := e.svc.Audit(ctx, "shop", cursor, 10)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, a := range page {
				got = append(got, a.Detail)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if len(got) != 25 || pages != 3 {
			t.Fatalf("%d entries in %d pages: %v", len(got), pages, got)
		}
		for i, d := range got {
			if d != fmt.Sprint(24-i) {
				t.Fatalf("entry %d is %s: %v", i, d, got)
			}
		}
		for _, bad := range []string{"x", "AAAA", "!!", cursor + "x"} {
			if _, _, err := e.svc.Audit(ctx, "shop", bad, 10); !errors.Is(err, portal.ErrCursor) {
				t.Fatalf("cursor %q: %v", bad, err)
			}
		}
	})
}
