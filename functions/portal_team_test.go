package functions_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

// The Team page through the API Gateway path, as an owner's browser uses
// it: invite (the email's link makes the member), change a role, remove
// (confirmed; the member's sessions end), every change in the audit log.
// The last owner stays; another store's member or an address of no member
// is 404; support opens neither page (403); a sign-in older than 10
// minutes is asked again before a change.
func TestPortalTeam(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			s := newPortalSite(t, b, ddbtest.StackOptions{})
			owner := s.signedInMember(t, "my-store", "owner@my-store.test", portal.RoleOwner)
			const team = "/portal/stores/my-store/team/"
			p := owner.get(team)
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "owner@my-store.test") || !strings.Contains(p.Body, `id="invite"`) {
				t.Fatalf("team page: %d\n%s", p.Status, p.Body)
			}

			// Invite: an email whose link makes a developer.
			s.clock.Add(int64(time.Second)) // entries a second apart: the log's order is theirs
			p = owner.post(team, url.Values{"action": {"invite"}, "email": {"Dev@My-Store.test"}, "role": {"developer"}})
			if p.Status != http.StatusSeeOther || p.Header.Get("Location") != team+"?done=invited" {
				t.Fatalf("invite: %d %s\n%s", p.Status, p.Header.Get("Location"), p.Body)
			}
			if p = owner.get(team + "?done=invited"); !strings.Contains(p.Body, `id="flash"`) || !strings.Contains(p.Body, `id="invitations"`) || !strings.Contains(p.Body, "dev@my-store.test") {
				t.Fatalf("team after the invitation:\n%s", p.Body)
			}
			dev := s.browser(t)
			s.clock.Add(int64(time.Second)) // entries a second apart: the log's order is theirs
			if p := dev.follow(s.link(t, "dev@my-store.test", portal.InvitePath)); p.Status != http.StatusSeeOther {
				t.Fatalf("accepting: %d\n%s", p.Status, p.Body)
			}
			acct := s.accounts(t)
			if r, err := acct.Role(context.Background(), "dev@my-store.test", "my-store"); err != nil || r != portal.RoleDeveloper {
				t.Fatalf("dev's role %q, %v", r, err)
			}
			if p := dev.get(team); p.Status != http.StatusForbidden {
				t.Errorf("a developer opens the team: %d, want 403", p.Status)
			}
			if p := dev.get("/portal/stores/my-store/audit/"); p.Status != http.StatusForbidden {
				t.Errorf("a developer opens the audit log: %d, want 403", p.Status)
			}

			// Change the role.
			s.clock.Add(int64(time.Second)) // entries a second apart: the log's order is theirs
			owner.get(team)
			if p := owner.post(team, url.Values{"action": {"role"}, "email": {"dev@my-store.test"}, "role": {"support"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("change role: %d\n%s", p.Status, p.Body)
			}
			if r, _ := acct.Role(context.Background(), "dev@my-store.test", "my-store"); r != portal.RoleSupport {
				t.Fatalf("role after the change: %q", r)
			}

			// Refusals: the last owner; an address of another store's member
			// or of nobody (404); a bad role or action (400); a forged token.
			for _, c := range []struct {
				form url.Values
				want int
			}{
				{url.Values{"action": {"role"}, "email": {"owner@my-store.test"}, "role": {"developer"}}, http.StatusConflict},
				{url.Values{"action": {"remove"}, "email": {"owner@my-store.test"}, "confirm": {"yes"}}, http.StatusConflict},
				{url.Values{"action": {"role"}, "email": {"nobody@example.com"}, "role": {"owner"}}, http.StatusNotFound},
				{url.Values{"action": {"remove"}, "email": {"nobody@example.com"}}, http.StatusNotFound},
				{url.Values{"action": {"role"}, "email": {"dev@my-store.test"}, "role": {"admin"}}, http.StatusBadRequest},
				{url.Values{"action": {"invite"}, "email": {"not an address"}, "role": {"support"}}, http.StatusBadRequest},
				{url.Values{"action": {"invite"}, "email": {"dev@my-store.test"}, "role": {"support"}}, http.StatusConflict},
				{url.Values{"action": {"explode"}}, http.StatusBadRequest},
				{url.Values{"action": {"remove"}, "email": {"dev@my-store.test"}, "csrf": {"forged"}}, http.StatusForbidden},
			} {
				owner.get(team)
				if p := owner.post(team, c.form); p.Status != c.want {
					t.Errorf("%v: %d, want %d\n%s", c.form, p.Status, c.want, p.Body)
				}
			}
			other := s.signedInMember(t, "evil-store", "evil@evil-store.test", portal.RoleOwner)
			owner.get(team)
			if p := owner.post(team, url.Values{"action": {"remove"}, "email": {"evil@evil-store.test"}, "confirm": {"yes"}}); p.Status != http.StatusNotFound {
				t.Errorf("removing another store's member: %d, want 404", p.Status)
			}
			if p := other.get(team); p.Status != http.StatusNotFound {
				t.Errorf("another store's owner opens this team: %d, want 404", p.Status)
			}

			// Remove: a confirmation first, then the member's sessions end.
			if p := dev.get("/portal/"); p.Status != http.StatusOK {
				t.Fatalf("dev signed in: %d", p.Status)
			}
			owner.get(team)
			p = owner.post(team, url.Values{"action": {"remove"}, "email": {"dev@my-store.test"}})
			if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="confirm"`) || !strings.Contains(p.Body, "dev@my-store.test") {
				t.Fatalf("remove asks to confirm: %d\n%s", p.Status, p.Body)
			}
			if _, err := acct.Role(context.Background(), "dev@my-store.test", "my-store"); err != nil {
				t.Fatalf("removed before the confirmation: %v", err)
			}
			s.clock.Add(int64(time.Second)) // entries a second apart: the log's order is theirs
			if p := owner.post(team, url.Values{"action": {"remove"}, "email": {"dev@my-store.test"}, "confirm": {"yes"}}); p.Status != http.StatusSeeOther {
				t.Fatalf("remove: %d\n%s", p.Status, p.Body)
			}
			if _, err := acct.Role(context.Background(), "dev@my-store.test", "my-store"); !errors.Is(err, portal.ErrNotMember) {
				t.Fatalf("after the removal: %v", err)
			}
			if p := dev.get("/portal/"); p.Status != http.StatusSeeOther {
				t.Errorf("the removed member's session: %d, want a redirect to sign in", p.Status)
			}

			// A sign-in older than 10 minutes is asked again before a change.
			s.clock.Add(int64(11 * time.Minute))
			owner.get(team)
			p = owner.post(team, url.Values{"action": {"invite"}, "email": {"late@my-store.test"}, "role": {"support"}})
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "/portal/signin/") {
				t.Fatalf("an old sign-in: %d\n%s", p.Status, p.Body)
			}
			if n := s.mailsTo(t, "late@my-store.test"); n != 0 {
				t.Fatalf("invited without a recent sign-in: %d emails", n)
			}

			// The audit log has every change, newest first, with who and from where.
			p = owner.get("/portal/stores/my-store/audit/")
			if p.Status != http.StatusOK {
				t.Fatalf("audit: %d\n%s", p.Status, p.Body)
			}
			body := html.UnescapeString(p.Body)
			order := []string{portal.ActionRemoveMember, portal.ActionSetRole, portal.ActionJoin, portal.ActionInvite}
			at := -1
			for _, action := range order {
				i := strings.Index(body, "<td>"+action+"</td>")
				if i < 0 || i < at {
					t.Fatalf("audit log: %s missing or out of order:\n%s", action, body)
				}
				at = i
			}
			if !strings.Contains(body, "<td>dev@my-store.test developer -> support</td>") || !strings.Contains(body, "<td>dev@my-store.test as developer</td>") {
				t.Fatalf("audit detail:\n%s", body)
			}
			if !strings.Contains(body, "<td>127.0.0.1</td>") {
				t.Errorf("audit log without the client IP:\n%s", body)
			}
		})
	}
}

// The audit log pages newest first, 50 at a time, every entry once; a
// cursor the log did not give is 400.
func TestPortalAuditPaging(t *testing.T) {
	b := ddbtest.Backends(t)[0]
	s := newPortalSite(t, b, ddbtest.StackOptions{})
	owner := s.signedInMember(t, "my-store", "owner@my-store.test", portal.RoleOwner)
	acct := s.accounts(t)
	st := s.env.Deps(t, "PortalTeamFunction").Store
	for i := range 70 {
		op := portal.AuditOp(st.Tables.Portal, "my-store", portal.Actor{Email: "x@my-store.test", IP: "192.0.2.1"}, "test.entry",
			fmt.Sprintf("entry-%02d", i), time.Now().Add(time.Duration(i-100)*time.Minute))
		if err := st.Transact(context.Background(), []types.TransactWriteItem{op}); err != nil {
			t.Fatal(err)
		}
	}
	_ = acct
	seen := map[string]int{}
	path, pages := "/portal/stores/my-store/audit/", 0
	entryRE := regexp.MustCompile(`entry-\d\d`)
	olderRE := regexp.MustCompile(`id="audit-older" rel="next" href="([^"]+)"`)
	last := "entry-99"
	for path != "" {
		p := owner.get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, p.Status, p.Body)
		}
		pages++
		for _, e := range entryRE.FindAllString(p.Body, -1) {
			seen[e]++
			if e >= last {
				t.Fatalf("%s after %s: not newest first", e, last)
			}
			last = e
		}
		path = ""
		if m := olderRE.FindStringSubmatch(p.Body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	if len(seen) != 70 || pages != 2 {
		t.Fatalf("%d entries in %d pages", len(seen), pages)
	}
	for e, n := range seen {
		if n != 1 {
			t.Fatalf("%s shown %d times", e, n)
		}
	}
	if p := owner.get("/portal/stores/my-store/audit/?cursor=forged"); p.Status != http.StatusBadRequest {
		t.Errorf("a forged cursor: %d, want 400", p.Status)
	}
}
