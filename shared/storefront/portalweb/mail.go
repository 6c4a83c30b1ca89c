package portalweb

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/mail"
	"github.com/tollgate-dev/tollgate/shared/platform/webpage"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

// The portal's emails: a sign-in link and an invitation, each a plain-text
// and an HTML part (webpage.EmailTemplate; html/template escapes every value). They
// hold a one-time link: nothing logs their bodies.

//go:embed email/signin.txt
var signinText string

//go:embed email/signin.html
var signinHTML string

//go:embed email/invite.txt
var inviteText string

//go:embed email/invite.html
var inviteHTML string

var (
	signinEmail = webpage.MustEmail("signin", signinText, signinHTML)
	inviteEmail = webpage.MustEmail("invite", inviteText, inviteHTML)
)

// LocalMailFrom is the portal's sender under make run when MAIL_FROM is
// unset.
const LocalMailFrom = "portal@tollgate.localhost"

// senderName is the display name of the portal's sender.
const senderName = "Tollgate partner portal"

// Mailer is the portal's portal.Mailer: it renders each email and sends it
// with Sender from From.
type Mailer struct {
	From   string // an SES-verified identity ("" none: every send fails)
	Sender mail.Sender
	Now    func() time.Time // the Date header (nil: time.Now)
}

var _ portal.Mailer = Mailer{}

// NewMailer is the portal's Mailer from the environment, as the
// dispatcher's (mail.FromEnv): MAIL_DIR under make run, else SES from
// MAIL_FROM. getenv reads a setting (deps.Deps.String, os.Getenv).
func NewMailer(ctx context.Context, getenv func(string) string, logger *slog.Logger, now func() time.Time) (Mailer, error) {
	sender, from, err := mail.FromEnv(ctx, getenv, logger, now, LocalMailFrom)
	if err != nil {
		return Mailer{}, fmt.Errorf("portal mail: %w", err)
	}
	return Mailer{From: from, Sender: sender, Now: now}, nil
}

// ErrNoSender is a send with no sender configured (MAIL_FROM unset in
// AWS).
var ErrNoSender = errors.New("portal mail: no sender address (MailFrom) is configured")

// mailView is the data of both parts of an email.
type mailView struct {
	Subject, Link, Expires        string
	StoreName, StoreSlug, Inviter string
	Role                          portal.Role
	RoleHelp                      string
}

// roleHelp says in a sentence what a role may do.
func roleHelp(r portal.Role) string {
	switch r {
	case portal.RoleOwner:
		return "Owners manage everything in the store, its team and its audit log included."
	case portal.RoleDeveloper:
		return "Developers manage API keys, webhooks, products and license keys."
	case portal.RoleSupport:
		return "Support members see orders and refund them; everything else is read-only."
	}
	return ""
}

// SignInLink mails a one-time sign-in link.
func (m Mailer) SignInLink(ctx context.Context, to, link string, expires time.Time) error {
	v := mailView{Subject: "Your sign-in link to the Tollgate partner portal", Link: link, Expires: expires.UTC().Format("15:04 MST, 2 January 2006")}
	return m.send(ctx, to, v, signinEmail)
}

// Invitation mails an invitation to join a store.
func (m Mailer) Invitation(ctx context.Context, to, storeName, storeSlug string, role portal.Role, inviter, link string, expires time.Time) error {
	v := mailView{Subject: "You are invited to " + storeName + " on the Tollgate partner portal", Link: link,
		Expires: expires.UTC().Format("2 January 2006, 15:04 MST"), StoreName: storeName, StoreSlug: storeSlug,
		Inviter: inviter, Role: role, RoleHelp: roleHelp(role)}
	return m.send(ctx, to, v, inviteEmail)
}

func (m Mailer) send(ctx context.Context, to string, v mailView, t webpage.EmailTemplate) error {
	if m.Sender == nil || m.From == "" {
		return ErrNoSender
	}
	text, html, err := t.Render(v)
	if err != nil {
		return fmt.Errorf("portal mail: render: %w", err)
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	// No fixed Message-ID: each link is a new message.
	if _, err := m.Sender.Send(ctx, mail.Message{From: mail.WithName(senderName, m.From), To: to, Subject: v.Subject,
		Text: text, HTML: html, Date: now()}); err != nil {
		return fmt.Errorf("portal mail: send: %w", err)
	}
	return nil
}
