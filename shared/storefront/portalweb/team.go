package portalweb

import (
	"net/http"
	"net/url"

	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

// Team is the PortalTeamFunction's family: a store's members and roles,
// invitations, and its audit log (owners only). Every change asks for a
// recent sign-in, writes its audit row in its own transaction (portal),
// and answers 303 back to the team page; removing a member asks to
// confirm first. A change naming an address that is not a member of the
// store answers 404, whether or not the address is a member elsewhere.
func (p *Pages) Team() (http.Handler, error) {
	return p.family([]route{
		{Method: "GET", Pattern: "/portal/stores/{store}/team/{$}", Roles: Owners, Handle: p.teamPage},
		{Method: "POST", Pattern: "/portal/stores/{store}/team/{$}", Roles: Owners, Handle: p.teamChange},
		{Method: "GET", Pattern: "/portal/stores/{store}/audit/{$}", Roles: Owners, Handle: p.auditPage},
	}), nil
}

// teamPage is the team: members (owners first), pending invitations and
// the invitation form.
type teamPage struct {
	Members     []portal.Member
	Invitations []portal.Invitation
	Roles       []portal.Role
	Self        string // the signed-in member's address
}

// teamFlash are the confirmations of the team's changes (?done=...).
var teamFlash = map[string]string{
	"invited": "Invitation sent. It works once, for 7 days.",
	"role":    "Role changed.",
	"removed": "Member removed. Their sessions have ended.",
}

func (p *Pages) teamPage(w http.ResponseWriter, r *http.Request, q *Req) {
	members, err := p.Accounts.Team(r.Context(), q.Store.Slug)
	if err != nil {
		p.fail(w, r, q.View("", "team", nil), "team", err)
		return
	}
	invites, err := p.Accounts.Invitations(r.Context(), q.Store.Slug)
	if err != nil {
		p.fail(w, r, q.View("", "team", nil), "team", err)
		return
	}
	v := q.View("Team", "team", teamPage{Members: members, Invitations: invites, Roles: portal.Roles, Self: q.Member.Email})
	v.Flash = teamFlash[r.URL.Query().Get("done")]
	p.render(w, r, http.StatusOK, "team", v)
}

// removePage asks to confirm a removal.
type removePage struct {
	Email string
	Self  bool
}

// teamChange is one change of the team, by the form's action: invite
// (email, role), role (email, role), remove (email; confirm=yes after the
// confirmation page).
func (p *Pages) teamChange(w http.ResponseWriter, r *http.Request, q *Req) {
	if !p.recent(w, r, q) {
		return
	}
	ctx, slug := r.Context(), q.Store.Slug
	back := "/portal/stores/" + url.PathEscape(slug) + "/team/"
	email := r.PostForm.Get("email")
	var err error
	done := ""
	switch r.PostForm.Get("action") {
	case "invite":
		var role portal.Role
		if role, err = portal.ParseRole(r.PostForm.Get("role")); err == nil {
			err = p.Accounts.Invite(ctx, q.Actor(r), slug, email, role, p.baseURL(r))
		}
		done = "invited"
	case "role":
		var role portal.Role
		if role, err = portal.ParseRole(r.PostForm.Get("role")); err == nil {
			err = p.Accounts.SetRole(ctx, q.Actor(r), slug, memberAddress(email), role)
		}
		done = "role"
	case "remove":
		email = memberAddress(email)
		if r.PostForm.Get("confirm") != "yes" {
			if _, err := p.Accounts.Role(ctx, email, slug); err != nil {
				p.fail(w, r, q.View("", "team", nil), "team remove", err)
				return
			}
			p.render(w, r, http.StatusOK, "team_remove", q.View("Remove a member", "team", removePage{Email: email, Self: email == q.Member.Email}))
			return
		}
		err = p.Accounts.Remove(ctx, q.Actor(r), slug, email)
		if err == nil && email == q.Member.Email {
			seeOther(w, r, "/portal/signin/") // their own sessions ended with the membership
			return
		}
		done = "removed"
	default:
		err = badInput("Choose what to change: invite, role or remove.")
	}
	if err != nil {
		p.fail(w, r, q.View("", "team", nil), "team "+r.PostForm.Get("action"), err)
		return
	}
	seeOther(w, r, back+"?done="+done)
}

// memberAddress is a member's address as the team page sent it: the
// portal's spelling (an address that is not one names no member: 404).
func memberAddress(s string) string {
	if e, err := portal.NormalizeEmail(s); err == nil {
		return e
	}
	return s
}

// auditSize is how many entries one page of the audit log shows.
const auditSize = 50

// auditPage is a page of the audit log, newest first.
type auditPage struct {
	Entries []portal.AuditEntry
	Next    string // the next (older) page's cursor, "" on the last
	First   bool   // this is the newest page
	Slug    string
}

func (p *Pages) auditPage(w http.ResponseWriter, r *http.Request, q *Req) {
	cursor := r.URL.Query().Get("cursor")
	entries, next, err := p.Accounts.Audit(r.Context(), q.Store.Slug, cursor, auditSize)
	if err != nil {
		p.fail(w, r, q.View("", "audit", nil), "audit", err)
		return
	}
	p.render(w, r, http.StatusOK, "audit", q.View("Audit log", "audit", auditPage{Entries: entries, Next: next, First: cursor == "", Slug: q.Store.Slug}))
}
