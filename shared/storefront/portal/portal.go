// Package portal owns the PortalTable of the partner portal: the members of
// each store and their roles, sign-in links, invitations, sessions,
// passkeys (WebAuthn), the WebAuthn ceremonies in flight and the audit log.
// It holds the rules of signing in and of managing a team; the pages
// (shared/storefront/portalweb) call it and render its typed errors.
//
// No secret is stored: a sign-in link, an invitation and a session are
// random tokens (32 bytes, base64url) that only their holder has; the table
// keeps their SHA-256 (digest), so a read of the table signs nobody in.
//
// Item layout (pk, sk; every key a dynamo.Tuple; T = expiresAt, the TTL):
//
//	("member", email), ("store", slug)     role, createdAt: the stores of a member
//	("team", slug), ("member", email)      role, createdAt: the members of a store (written with the row above, one transaction)
//	("team", slug), "team"                 owners (N): how many owners the store has; a change that would take it to 0 fails its condition
//	("team", slug), ("invite", email)      digest, role, inviter, T: the store's pending invitation of email (the newest)
//	("invite", digest), "invite"           store, email, role, inviter, createdAt, T (7 days): an invitation
//	("link", digest), "link"               email, browser (digest of the asking browser's nonce), createdAt, T (15 minutes)
//	("session", digest), "session"         email, method, createdAt, authAt, lastSeen, T (idle or absolute end, whichever first)
//	("account", email), ("session", digest) T: the member's sessions (so removing a member ends them)
//	("account", email), "handle"           handle (B): the member's WebAuthn user handle, random
//	("handle", base64url(handle)), "handle" email: who a discoverable credential's user handle names
//	("account", email), ("passkey", id)    credential (JSON of webauthn.Credential), rp, name, createdAt, lastUsed
//	("ceremony", id), "ceremony"           kind, email, rp, session (JSON of webauthn.SessionData), T (5 minutes)
//	("audit", slug, "2006-01"), time+rand  actor, ip, action, detail, at: the audit log, a partition per store and month
//
// Every change to a team is one TransactWriteItems with its audit row
// (AuditOp); the stores package takes the same audit op into its own
// transactions.
package portal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
)

// Lifetimes.
const (
	LinkTTL        = 15 * time.Minute   // a sign-in link
	InviteTTL      = 7 * 24 * time.Hour // an invitation
	SessionIdle    = 2 * time.Hour      // a session not used for this long ends
	SessionMax     = 12 * time.Hour     // a session ends this long after it began, used or not
	RecentSignIn   = 10 * time.Minute   // Session.Recent: how long a sign-in counts as recent
	CeremonyTTL    = 5 * time.Minute    // a WebAuthn ceremony between Begin and Finish
	touchEvery     = 5 * time.Minute    // lastSeen is written at most this often
	maxTokenLength = 64                 // longer tokens are refused unread (ours have 43 characters)
)

// Paths of the links the emails carry, under the portal's base URL (the
// token follows). The pages under them must not act on GET alone (mail
// scanners open links): they show a button that POSTs the token.
const (
	SignInLinkPath = "/portal/signin/link/?token="
	InvitePath     = "/portal/invite/?token="
)

// Attribute names.
const (
	attrRole     = "role"
	attrOwners   = "owners"
	attrDigest   = "digest"
	attrStore    = "store"
	attrEmail    = "email"
	attrInviter  = "inviter"
	attrBrowser  = "browser"
	attrMethod   = "method"
	attrAuthAt   = "authAt"
	attrLastSeen = "lastSeen"
	attrHandle   = "handle"
	attrCred     = "credential"
	attrRP       = "rp"
	attrName     = "name"
	attrLastUsed = "lastUsed"
	attrKind     = "kind"
	attrSession  = "session"
	attrActor    = "actor"
	attrIP       = "ip"
	attrAction   = "action"
	attrDetail   = "detail"
	attrAt       = "at"
)

const (
	skTeam     = "team"
	skInvite   = "invite"
	skLink     = "link"
	skSession  = "session"
	skHandle   = "handle"
	skCeremony = "ceremony"
)

func memberPK(email string) string     { return dynamo.Tuple("member", email) }
func storeSK(slug string) string       { return dynamo.Tuple("store", slug) }
func teamPK(slug string) string        { return dynamo.Tuple("team", slug) }
func teamMemberSK(email string) string { return dynamo.Tuple("member", email) }
func teamInviteSK(email string) string { return dynamo.Tuple("invite", email) }
func invitePK(digest string) string    { return dynamo.Tuple("invite", digest) }
func linkPK(digest string) string      { return dynamo.Tuple("link", digest) }
func sessionPK(digest string) string   { return dynamo.Tuple("session", digest) }
func accountPK(email string) string    { return dynamo.Tuple("account", email) }
func accountSessionSK(d string) string { return dynamo.Tuple("session", d) }
func passkeySK(id string) string       { return dynamo.Tuple("passkey", id) }
func handlePK(h []byte) string         { return dynamo.Tuple("handle", b64(h)) }
func ceremonyPK(id string) string      { return dynamo.Tuple("ceremony", id) }

// Role is what a member may do in a store.
type Role string

// Roles.
const (
	RoleOwner     Role = "owner"     // everything, the team and the audit log included
	RoleDeveloper Role = "developer" // API keys, webhooks, products, license keys
	RoleSupport   Role = "support"   // orders and refunds; read-only elsewhere
)

// Roles lists the roles, most powerful first.
var Roles = []Role{RoleOwner, RoleDeveloper, RoleSupport}

// ParseRole reads a role's name; ErrRole for any other string.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleOwner, RoleDeveloper, RoleSupport:
		return r, nil
	}
	return "", ErrRole
}

// Actor is who made a change, and from which client IP.
type Actor struct{ Email, IP string }

// Refusals. The pages map each to a message; none reveals more than the
// caller may know.
var (
	ErrRole        = errors.New("portal: the role must be owner, developer or support")
	ErrEmail       = fmt.Errorf("portal: the email address %w", validate.ErrEmail)
	ErrNotMember   = errors.New("portal: not a member of this store")
	ErrMember      = errors.New("portal: already a member of this store")
	ErrLastOwner   = errors.New("portal: a store keeps at least one owner")
	ErrNoStore     = errors.New("portal: no such store")
	ErrLinkInvalid = errors.New("portal: the sign-in link is unknown, used, expired or was asked for in another browser")
	ErrInvite      = errors.New("portal: the invitation is unknown, used or expired")
	ErrNoSession   = errors.New("portal: no session (signed out or expired)")
	ErrNoNonce     = errors.New("portal: the browser nonce is missing")
	ErrRateLimited = errors.New("portal: too many sign-in requests")
	ErrCursor      = errors.New("portal: the page cursor is not one this log gave")
	ErrPasskey     = errors.New("portal: the passkey was not accepted")
	ErrCeremony    = errors.New("portal: the passkey ceremony is unknown, used or expired")
	ErrNoPasskey   = errors.New("portal: no such passkey")
	ErrName        = errors.New("portal: a passkey name is 1-64 characters")
)

// RateLimitedError is a sign-in request refused for its rate limit
// (errors.Is ErrRateLimited); RetryAfter says when the window ends.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("%v: retry after %s", ErrRateLimited, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrRateLimited) hold.
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// Service is the portal's accounts: members, sign-in, sessions, passkeys,
// the audit log.
type Service struct {
	st      dynamo.Store
	limiter ratelimit.Limiter
	mailer  Mailer
	now     func() time.Time
	// Limits of RequestLink: per address and per client IP.
	LinkPerEmail, LinkPerIP ratelimit.Policy
	// Logger takes what a caller cannot be told (a sign-in email that
	// failed, a rate-limit counter that could not be written); never an
	// address's token.
	Logger *slog.Logger
}

// Mailer sends the portal's two emails; portalweb renders them.
type Mailer interface {
	// SignInLink mails a one-time sign-in link to a member.
	SignInLink(ctx context.Context, to, link string, expires time.Time) error
	// Invitation mails an invitation to join a store.
	Invitation(ctx context.Context, to, storeName, storeSlug string, role Role, inviter, link string, expires time.Time) error
}

// New returns the portal's service over st (st.Tables.Portal; the stores
// table for store names; limiter's table for the sign-in rate limits).
// now is the clock of every rule (tests inject one).
func New(st dynamo.Store, limiter ratelimit.Limiter, mailer Mailer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, limiter: limiter, mailer: mailer, now: now,
		LinkPerEmail: ratelimit.Policy{Name: "portal-link-email", Limit: 5, Window: 15 * time.Minute},
		LinkPerIP:    ratelimit.Policy{Name: "portal-link-ip", Limit: 30, Window: 15 * time.Minute},
		Logger:       slog.New(slog.DiscardHandler)}
}

// NormalizeEmail is the one spelling of a member's address: trimmed, lower
// case, a bare address (validate.Email); ErrEmail otherwise.
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if validate.Email(e) != nil {
		return "", ErrEmail
	}
	return e, nil
}

// newToken is 32 random bytes in base64url: a link, invitation or session
// token, or a ceremony id.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b64(b)
}

// digest is what the table keeps of a token of kind: its SHA-256 under the
// kind's name, so a token of one kind never matches a row of another.
func digest(kind, token string) string { return dynamo.Fingerprint("portal", kind, token) }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// epoch is a TTL value.
func epoch(t time.Time) int64 { return t.Unix() }

func base64RawURL(s string) ([]byte, error) {
	if len(s) > 512 {
		return nil, errors.New("too long")
	}
	return base64.RawURLEncoding.DecodeString(s)
}
