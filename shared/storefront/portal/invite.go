package portal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Invite invites email to store slug with role r: the invitation (its
// token's digest, valid 7 days; a newer one to the same address replaces
// it) and its audit row in one transaction, then the email with the link
// baseURL + InvitePath + token. ErrMember when email already belongs to
// the store, ErrNoStore when there is no such store. When the email
// cannot be sent the invitation stays (an error says so): inviting again
// sends a new one.
func (s *Service) Invite(ctx context.Context, a Actor, slug, email string, r Role, baseURL string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if _, err := ParseRole(string(r)); err != nil {
		return err
	}
	l, err := stores.ReadListing(ctx, s.st.DB, s.st.Tables.Stores, slug)
	if err != nil {
		return err
	}
	if !l.Found {
		return ErrNoStore
	}
	switch _, err := s.Role(ctx, email, slug); {
	case err == nil:
		return ErrMember
	case !errors.Is(err, ErrNotMember):
		return err
	}
	prev, err := s.get(ctx, dynamo.PKSK(teamPK(slug), teamInviteSK(email)))
	if err != nil {
		return err
	}
	now := s.now()
	expires := now.Add(InviteTTL)
	token := newToken()
	d := digest(skInvite, token)
	ops := []types.TransactWriteItem{
		dynamo.PutNewOp(s.table(), item{dynamo.AttrPK: dynamo.S(invitePK(d)), dynamo.AttrSK: dynamo.S(skInvite),
			attrStore: dynamo.S(slug), attrEmail: dynamo.S(email), attrRole: dynamo.S(string(r)), attrInviter: dynamo.S(a.Email),
			dynamo.AttrCreatedAt: dynamo.Time(now), dynamo.AttrExpiresAt: dynamo.N(epoch(expires))}),
		dynamo.PutOp(s.table(), item{dynamo.AttrPK: dynamo.S(teamPK(slug)), dynamo.AttrSK: dynamo.S(teamInviteSK(email)),
			attrDigest: dynamo.S(d), attrEmail: dynamo.S(email), attrRole: dynamo.S(string(r)), attrInviter: dynamo.S(a.Email),
			dynamo.AttrExpiresAt: dynamo.N(epoch(expires))}),
		AuditOp(s.table(), slug, a, ActionInvite, email+" as "+string(r), now),
	}
	if old := dynamo.StringAttr(prev[attrDigest]); old != "" {
		ops = append(ops, dynamo.DeleteOp(s.table(), dynamo.PKSK(invitePK(old), skInvite), nil))
	}
	if err := s.st.Transact(ctx, ops); err != nil {
		return fmt.Errorf("portal: store an invitation to %s: %w", slug, err)
	}
	name := l.Store.Name
	if name == "" {
		name = slug
	}
	if err := s.mailer.Invitation(ctx, email, name, slug, r, a.Email, baseURL+InvitePath+token, expires); err != nil {
		return fmt.Errorf("portal: the invitation is stored but its email was not sent (invite again): %w", err)
	}
	return nil
}

// AcceptInvite accepts the invitation of token: it consumes it (of
// concurrent accepts exactly one wins), makes the invitee a member with the
// invited role (a member already keeps their role), starts a session and
// records the join and the sign-in. ErrInvite for an unknown, used or
// expired invitation.
func (s *Service) AcceptInvite(ctx context.Context, token, ip string) (string, Session, error) {
	if token == "" || len(token) > maxTokenLength {
		return "", Session{}, ErrInvite
	}
	d := digest(skInvite, token)
	key := dynamo.PKSK(invitePK(d), skInvite)
	for attempt := 1; ; attempt++ {
		it, err := s.get(ctx, key)
		if err != nil {
			return "", Session{}, err
		}
		now := s.now()
		exp, _ := dynamo.IntAttr(it[dynamo.AttrExpiresAt])
		if it == nil || !now.Before(time.Unix(exp, 0)) {
			return "", Session{}, ErrInvite
		}
		slug, email := dynamo.StringAttr(it[attrStore]), dynamo.StringAttr(it[attrEmail])
		r, err := ParseRole(dynamo.StringAttr(it[attrRole]))
		if err != nil {
			return "", Session{}, fmt.Errorf("portal: invitation row: %w", err)
		}
		_, err = s.Role(ctx, email, slug)
		member := err == nil
		if err != nil && !errors.Is(err, ErrNotMember) {
			return "", Session{}, err
		}
		sessToken, sess, signIn, err := s.signInOps(ctx, email, MethodInvite, ip, now)
		if err != nil {
			return "", Session{}, err
		}
		invitee := Actor{Email: email, IP: ip}
		ops := []types.TransactWriteItem{
			dynamo.DeleteOp(s.table(), key, dynamo.Cond(dynamo.Exists())),
			dynamo.DeleteOp(s.table(), dynamo.PKSK(teamPK(slug), teamInviteSK(email)),
				dynamo.Cond(expression.AttributeNotExists(expression.Name(dynamo.AttrPK)).Or(expression.Name(attrDigest).Equal(expression.Value(d))))),
		}
		if !member {
			ops = append(ops, s.memberOps(slug, email, r, now)...)
			ops = append(ops, AuditOp(s.table(), slug, invitee, ActionJoin, string(r), now),
				AuditOp(s.table(), slug, invitee, ActionSignIn, MethodInvite, now))
		}
		err = s.transactChunks(ctx, append(ops, signIn...))
		var failed *dynamo.ConditionFailedError
		switch {
		case err == nil:
			return sessToken, sess, nil
		case !errors.As(err, &failed):
			return "", Session{}, fmt.Errorf("portal: accept an invitation: %w", err)
		case failed.Failed(0) || failed.Failed(1):
			return "", Session{}, ErrInvite
		case attempt == changeAttempts:
			return "", Session{}, fmt.Errorf("portal: accept an invitation: %w", err)
		}
		// The invitee became a member meanwhile: again, as a member.
	}
}
