package portalweb

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/webpage"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Cookies. The session cookie is __Host- prefixed (Secure, Path=/, no
// Domain: no other site or subdomain can set or read it) wherever the
// request came over HTTPS; plain HTTP exists only on loopback under make
// run, where browsers refuse a __Host- cookie without Secure, so it goes
// by its bare name there.
const (
	sessionCookie = "tollgate_portal"
	hostPrefix    = "__Host-"
	bindingCookie = "tollgate_portal_signin" // binds a sign-in link to the browser that asked for it
	csrfCookie    = "tollgate_portal_csrf"
	csrfPurpose   = "portalweb-csrf"
	csrfScope     = "portal"
	// sessionMaxAge bounds the cookie; the session row's own limits (idle
	// 2 h, absolute 12 h) are what end a session.
	sessionMaxAge = 12 * time.Hour
)

func (p *Pages) csrf() webpage.CSRF {
	return webpage.CSRF{Signer: p.signer, Cookie: csrfCookie, Purpose: csrfPurpose}
}

func sessionCookieName(r *http.Request) string {
	if httpx.Secure(r) {
		return hostPrefix + sessionCookie
	}
	return sessionCookie
}

func (p *Pages) setSession(w http.ResponseWriter, r *http.Request, token string) {
	webpage.SetCookie(w, r, sessionCookieName(r), token, "/", sessionMaxAge)
}

func (p *Pages) clearSession(w http.ResponseWriter, r *http.Request) {
	webpage.SetCookie(w, r, sessionCookieName(r), "", "/", -1)
}

func sessionToken(r *http.Request) string {
	if c, err := r.Cookie(sessionCookieName(r)); err == nil {
		return c.Value
	}
	return ""
}

// Member is the signed-in member of a request.
type Member struct {
	Email   string
	Session portal.Session
	token   string
}

// StoreRef is the store a store page is about and the member's role in it.
type StoreRef struct {
	Slug string
	Name string
	Role portal.Role
}

// Can reports whether the member's role opens section (for the nav).
func (s *StoreRef) Can(section string) bool {
	return slices.Contains(sectionRoles[section], s.Role)
}

// sectionRoles: who may open each section of a store. Support reads
// orders and refunds; developers run the integration; owners everything.
var sectionRoles = map[string][]portal.Role{
	"overview": {portal.RoleOwner, portal.RoleDeveloper, portal.RoleSupport},
	"orders":   {portal.RoleOwner, portal.RoleDeveloper, portal.RoleSupport},
	"webhooks": {portal.RoleOwner, portal.RoleDeveloper, portal.RoleSupport},
	"products": {portal.RoleOwner, portal.RoleDeveloper, portal.RoleSupport},
	"licenses": {portal.RoleOwner, portal.RoleDeveloper, portal.RoleSupport},
	"apikeys":  {portal.RoleOwner, portal.RoleDeveloper},
	"settings": {portal.RoleOwner, portal.RoleDeveloper, portal.RoleSupport},
	"team":     {portal.RoleOwner},
	"audit":    {portal.RoleOwner},
}

// Writers: who may change what a section shows (support reads the
// products, license levels, settings and webhooks, and changes nothing
// there but replays).
var (
	Everyone   = []portal.Role{portal.RoleOwner, portal.RoleDeveloper, portal.RoleSupport}
	Developers = []portal.Role{portal.RoleOwner, portal.RoleDeveloper}
	Owners     = []portal.Role{portal.RoleOwner}
	Support    = []portal.Role{portal.RoleOwner, portal.RoleSupport}
)

// Req is one request to a signed-in page.
type Req struct {
	Member *Member
	Store  *StoreRef // nil outside /portal/stores/{store}/
}

// Actor is who the audit log names for this request.
func (q *Req) Actor(r *http.Request) portal.Actor {
	return portal.Actor{Email: q.Member.Email, IP: httpx.ClientIP(r)}
}

// View is a view with the request's member and store filled in.
func (q *Req) View(title, nav string, page any) view {
	return view{Title: title, Member: q.Member, Store: q.Store, Nav: nav, Page: page}
}

// route is one page or action of a family.
type route struct {
	Method  string        // GET or POST
	Pattern string        // a ServeMux pattern, {store} names the store
	Roles   []portal.Role // who may; nil: any signed-in member (pages outside a store)
	Public  bool          // no session needed (sign-in pages)
	JSON    bool          // answered to a script (the passkey ceremony): refusals as JSON errors too
	Limit   int64         // a POST's size limit (0: maxForm); an upload's is larger
	Handle  func(w http.ResponseWriter, r *http.Request, q *Req)
}

// maxForm bounds a posted form; uploads set their own limit.
const maxForm = 64 << 10

// family serves routes: it reads the session, checks the member's role
// in the store the path names (404 when not a member, 403 when the role
// does not reach), checks the CSRF token of every POST, then runs Handle.
func (p *Pages) family(routes []route) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.HandleFunc(rt.Method+" "+rt.Pattern, func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, rt) })
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			p.showError(w, r, view{}, http.StatusNotFound, "")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (p *Pages) serve(w http.ResponseWriter, r *http.Request, rt route) {
	q := &Req{}
	if rt.Method == http.MethodPost {
		limit := int64(maxForm)
		if rt.Limit > 0 {
			limit = rt.Limit
		}
		err := p.readForm(w, r, limit)
		if err == nil {
			err = p.csrf().Check(r, csrfScope)
		}
		if err != nil && rt.JSON {
			p.jsonFail(w, rt.Pattern, err)
			return
		}
		if err != nil {
			p.fail(w, r, view{}, rt.Pattern, err)
			return
		}
	}
	if !rt.Public {
		m, err := p.member(r)
		if err != nil && rt.JSON {
			p.jsonFail(w, rt.Pattern, err)
			return
		}
		if errors.Is(err, portal.ErrNoSession) {
			p.toSignIn(w, r)
			return
		}
		if err != nil {
			p.fail(w, r, view{}, rt.Pattern, err)
			return
		}
		q.Member = m
		if slug := r.PathValue("store"); slug != "" {
			s, err := p.storeRef(r, m, slug)
			if err != nil {
				p.fail(w, r, view{Member: m}, rt.Pattern, err)
				return
			}
			q.Store = s
			if !slices.Contains(rt.Roles, s.Role) {
				p.fail(w, r, q.View("", "", nil), rt.Pattern, errForbidden)
				return
			}
		}
	}
	rt.Handle(w, r, q)
}

// readForm parses a posted form of at most limit bytes.
func (p *Pages) readForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(limit); err != nil { //nolint:gosec // G120: the body is bounded by MaxBytesReader above
			return formError(err)
		}
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return formError(err)
	}
	return nil
}

func formError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errTooLarge
	}
	return badInput("The form could not be read.")
}

// member is the signed-in member of r: ErrNoSession without a live one.
func (p *Pages) member(r *http.Request) (*Member, error) {
	token := sessionToken(r)
	if token == "" {
		return nil, portal.ErrNoSession
	}
	s, err := p.Accounts.Session(r.Context(), token)
	if err != nil {
		return nil, err
	}
	return &Member{Email: s.Email, Session: s, token: token}, nil
}

// storeRef is the member's role in store slug: errNotFound when the slug
// is not a store of theirs, whether or not it exists.
func (p *Pages) storeRef(r *http.Request, m *Member, slug string) (*StoreRef, error) {
	if !stores.ValidSlug(slug) {
		return nil, errNotFound
	}
	role, err := p.Accounts.Role(r.Context(), m.Email, slug)
	if err != nil {
		return nil, err // portal.ErrNotMember shows as 404
	}
	name := slug
	if l, err := stores.ReadListing(r.Context(), p.Deps.Store.DB, p.Deps.Store.Tables.Stores, slug); err == nil && l.Store.Name != "" {
		name = l.Store.Name
	}
	return &StoreRef{Slug: slug, Name: name, Role: role}, nil
}

// toSignIn sends a visitor without a session to the sign-in page, to come
// back here after.
func (p *Pages) toSignIn(w http.ResponseWriter, r *http.Request) {
	next := ""
	if r.Method == http.MethodGet {
		next = r.URL.RequestURI()
	}
	target := "/portal/signin/"
	if next != "" {
		target += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// recent reports whether the member signed in within the last 10 minutes
// (portal.RecentSignIn): creating a live key, rotating a webhook secret,
// refunding, changing the team and removing a passkey ask for it. When
// not, it answers with the page that asks them to sign in again (and come
// back to the page they were on) and returns false.
func (p *Pages) recent(w http.ResponseWriter, r *http.Request, q *Req) bool {
	if q.Member.Session.Recent(p.now()) {
		return true
	}
	back := r.URL.Path
	if ref := r.Header.Get("Referer"); ref != "" {
		if u, err := url.Parse(ref); err == nil && localPath(u.RequestURI()) {
			back = u.RequestURI()
		}
	}
	p.render(w, r, http.StatusForbidden, "reauth", q.View("Sign in again", "", reauthPage{Next: back, Email: q.Member.Email}))
	return false
}

type reauthPage struct{ Next, Email string }

// localPath reports whether next is a path of the portal itself: the only
// place a sign-in sends a browser back to.
func localPath(next string) bool {
	return strings.HasPrefix(next, "/portal/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n")
}

// seeOther answers a successful POST: the browser loads target with GET,
// so a reload does not post again.
func seeOther(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, target, http.StatusSeeOther) //nolint:gosec // G710: targets are the portal's own paths; a member's "next" only after localPath
}

func requestOrigin(r *http.Request) string { return httpx.RequestOrigin(r) }
