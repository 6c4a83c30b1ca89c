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

// teamForm is a team change as the form sent it.
type teamForm struct {
	Action  string // invite, role or remove
	Email   string // the portal's spelling of the address
	Role    portal.Role
	Confirm bool // a removal confirmed
}

// parseTeamForm decodes a team change: a bad action, role or (to invite)
// address is a 400 with its message; an address that is no address, to
// change or remove, names no member (404).
func parseTeamForm(f url.Values) (teamForm, error) {
	tf := teamForm{Action: f.Get("action"), Confirm: f.Get("confirm") == "yes"}
	switch tf.Action {
	case "invite", "role":
		r, err := portal.ParseRole(f.Get("role"))
		if err != nil {
			return teamForm{}, err
		}
		tf.Role = r
	case "remove":
	default:
		return teamForm{}, badInput("Choose what to change: invite, role or remove.")
	}
	email, err := portal.NormalizeEmail(f.Get("email"))
	switch {
	case err != nil && tf.Action == "invite":
		return teamForm{}, err
	case err != nil:
		return teamForm{}, errNotFound
	}
	tf.Email = email
	return tf, nil
}

// teamChange is one change of the team, by the form's action: invite
// (email, role), role (email, role), remove (email; confirm=yes after the
// confirmation page).
func (p *Pages) teamChange(w http.ResponseWriter, r *http.Request, q *Req) {
	if !p.recent(w, r, q) {
		return
	}
	ctx, slug := r.Context(), q.Store.Slug
	tf, err := parseTeamForm(r.PostForm)
	if err != nil {
		p.fail(w, r, q.View("", "team", nil), "team", err)
		return
	}
	switch tf.Action {
	case "invite":
		err = p.Accounts.Invite(ctx, q.Actor(r), slug, tf.Email, tf.Role, p.baseURL(r))
	case "role":
		err = p.Accounts.SetRole(ctx, q.Actor(r), slug, tf.Email, tf.Role)
	case "remove":
		if !tf.Confirm {
			if _, err := p.Accounts.Role(ctx, tf.Email, slug); err != nil {
				p.fail(w, r, q.View("", "team", nil), "team remove", err)
				return
			}
			p.render(w, r, http.StatusOK, "team_remove", q.View("Remove a member", "team", removePage{Email: tf.Email, Self: tf.Email == q.Member.Email}))
			return
		}
		err = p.Accounts.Remove(ctx, q.Actor(r), slug, tf.Email)
		if err == nil && tf.Email == q.Member.Email {
			seeOther(w, r, "/portal/signin/") // their own sessions ended with the membership
			return
		}
	}
	if err != nil {
		p.fail(w, r, q.View("", "team", nil), "team "+tf.Action, err)
		return
	}
	seeOther(w, r, "/portal/stores/"+url.PathEscape(slug)+"/team/?done="+doneOf[tf.Action])
}

// doneOf is the confirmation (teamFlash) of each action.
var doneOf = map[string]string{"invite": "invited", "role": "role", "remove": "removed"}

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
