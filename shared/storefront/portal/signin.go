package portal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
)

// RequestLink mails email a one-time sign-in link (15 minutes) bound to
// the browser that asked: browserNonce is a random value the page keeps in
// a cookie of that browser; only its digest is stored. The answer never
// says whether email is a member: an unknown address gets the same nil
// and no email. Requests are limited per address and per client IP
// (*RateLimitedError), known addresses or not.
func (s *Service) RequestLink(ctx context.Context, email, browserNonce, ip, baseURL string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if browserNonce == "" || len(browserNonce) > maxTokenLength {
		return ErrNoNonce
	}
	now := s.now()
	if err := s.limit(ctx, s.LinkPerIP, "ip:"+ip, now); err != nil {
		return err
	}
	// The address's counter is keyed by its digest: the rate-limit table
	// holds no addresses.
	if err := s.limit(ctx, s.LinkPerEmail, digest("email", email), now); err != nil {
		return err
	}
	ms, err := s.Memberships(ctx, email)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil
	}
	token := newToken()
	expires := now.Add(LinkTTL)
	if err := s.st.Transact(ctx, []types.TransactWriteItem{dynamo.PutNewOp(s.table(), item{
		dynamo.AttrPK: dynamo.S(linkPK(digest(skLink, token))), dynamo.AttrSK: dynamo.S(skLink),
		attrEmail: dynamo.S(email), attrBrowser: dynamo.S(digest("browser", browserNonce)),
		dynamo.AttrCreatedAt: dynamo.Time(now), dynamo.AttrExpiresAt: dynamo.N(epoch(expires)),
	})}); err != nil {
		return fmt.Errorf("portal: store a sign-in link: %w", err)
	}
	// A failed send is logged, not answered: the answer would tell the
	// address is a member's. The member asks again.
	if err := s.mailer.SignInLink(ctx, email, baseURL+SignInLinkPath+token, expires); err != nil {
		s.Logger.ErrorContext(ctx, "portal: sign-in email not sent", "error", err)
	}
	return nil
}

// limit counts one request of subject under p; over the limit it is a
// *RateLimitedError. A counter that cannot be written lets the request
// through (as every rate limit of Tollgate), logged.
func (s *Service) limit(ctx context.Context, p ratelimit.Policy, subject string, now time.Time) error {
	res, err := s.limiter.Hit(ctx, p, subject, now)
	if err != nil {
		s.Logger.WarnContext(ctx, "portal: rate limit not counted", "policy", p.Name, "error", err)
		return nil
	}
	if !res.Allowed {
		return &RateLimitedError{RetryAfter: res.Reset.Sub(now)}
	}
	return nil
}

// RedeemLink signs in with the link token in the browser whose nonce is
// browserNonce: it consumes the link (a conditional delete: of concurrent
// redeems exactly one wins), starts a session and records the sign-in in
// every store of the member; it answers the session's token. Every
// failure — unknown, used, expired, another browser — is ErrLinkInvalid.
func (s *Service) RedeemLink(ctx context.Context, token, browserNonce, ip string) (string, Session, error) {
	if token == "" || len(token) > maxTokenLength || browserNonce == "" || len(browserNonce) > maxTokenLength {
		return "", Session{}, ErrLinkInvalid
	}
	key := dynamo.PKSK(linkPK(digest(skLink, token)), skLink)
	it, err := s.get(ctx, key)
	if err != nil {
		return "", Session{}, err
	}
	now := s.now()
	browser := digest("browser", browserNonce)
	exp, _ := dynamo.IntAttr(it[dynamo.AttrExpiresAt])
	if it == nil || dynamo.StringAttr(it[attrBrowser]) != browser || !now.Before(time.Unix(exp, 0)) {
		return "", Session{}, ErrLinkInvalid
	}
	email := dynamo.StringAttr(it[attrEmail])
	sessToken, sess, ops, err := s.signInOps(ctx, email, MethodLink, ip, now)
	if err != nil {
		return "", Session{}, err
	}
	consume := dynamo.DeleteOp(s.table(), key, dynamo.Cond(dynamo.Exists().And(expression.Name(attrBrowser).Equal(expression.Value(browser)))))
	if err := s.transactChunks(ctx, append([]types.TransactWriteItem{consume}, ops...)); err != nil {
		var failed *dynamo.ConditionFailedError
		if errors.As(err, &failed) && failed.Failed(0) {
			return "", Session{}, ErrLinkInvalid
		}
		return "", Session{}, fmt.Errorf("portal: redeem a sign-in link: %w", err)
	}
	return sessToken, sess, nil
}
