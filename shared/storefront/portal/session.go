package portal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Sign-in methods (a session's Method, the detail of ActionSignIn).
const (
	MethodLink    = "link"
	MethodPasskey = "passkey"
	MethodInvite  = "invite"
)

// Session is a signed-in member's server-side session. The cookie holds
// its token; the table only the token's digest, which is ID.
type Session struct {
	ID, Email, Method string
	CreatedAt         time.Time // when it began
	AuthAt            time.Time // when its member last proved who they are (the sign-in)
	LastSeen          time.Time // when it was last used (written at most every 5 minutes)
}

// Recent reports whether the member signed in within the last 10 minutes:
// what creating a live key, rotating a webhook secret, refunding and
// changing the team ask for.
func (s Session) Recent(now time.Time) bool { return now.Sub(s.AuthAt) < RecentSignIn }

// Expires is when the session ends unless used again.
func (s Session) Expires() time.Time {
	return minTime(s.LastSeen.Add(SessionIdle), s.CreatedAt.Add(SessionMax))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// sessionOps are the writes of a new session of email: its token, the
// session and the member's index of their sessions.
func (s *Service) sessionOps(email, method string, now time.Time) (string, Session, []types.TransactWriteItem) {
	token := newToken()
	sess := Session{ID: digest(skSession, token), Email: email, Method: method, CreatedAt: now, AuthAt: now, LastSeen: now}
	ops := []types.TransactWriteItem{
		dynamo.PutNewOp(s.table(), item{dynamo.AttrPK: dynamo.S(sessionPK(sess.ID)), dynamo.AttrSK: dynamo.S(skSession),
			attrEmail: dynamo.S(email), attrMethod: dynamo.S(method), dynamo.AttrCreatedAt: dynamo.Time(now), attrAuthAt: dynamo.Time(now),
			attrLastSeen: dynamo.Time(now), dynamo.AttrExpiresAt: dynamo.N(epoch(sess.Expires()))}),
		dynamo.PutOp(s.table(), item{dynamo.AttrPK: dynamo.S(accountPK(email)), dynamo.AttrSK: dynamo.S(accountSessionSK(sess.ID)),
			dynamo.AttrExpiresAt: dynamo.N(epoch(now.Add(SessionMax)))}),
	}
	return token, sess, ops
}

// signInOps are sessionOps and an audit row of the sign-in in every store
// email belongs to.
func (s *Service) signInOps(ctx context.Context, email, method, ip string, now time.Time) (string, Session, []types.TransactWriteItem, error) {
	ms, err := s.Memberships(ctx, email)
	if err != nil {
		return "", Session{}, nil, err
	}
	token, sess, ops := s.sessionOps(email, method, now)
	for _, m := range ms {
		ops = append(ops, AuditOp(s.table(), m.Slug, Actor{Email: email, IP: ip}, ActionSignIn, method, now))
	}
	return token, sess, ops, nil
}

// Session is the session of token: one GetItem, and an UpdateItem of its
// lastSeen at most every 5 minutes. ErrNoSession when there is none, it
// ended, or it expired.
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	if token == "" || len(token) > maxTokenLength {
		return Session{}, ErrNoSession
	}
	id := digest(skSession, token)
	key := dynamo.PKSK(sessionPK(id), skSession)
	it, err := s.get(ctx, key)
	if err != nil || it == nil {
		return Session{}, errors.Join(ErrNoSession, err)
	}
	sess := Session{ID: id, Email: dynamo.StringAttr(it[attrEmail]), Method: dynamo.StringAttr(it[attrMethod])}
	var errs [3]error
	sess.CreatedAt, errs[0] = dynamo.TimeAttr(it[dynamo.AttrCreatedAt])
	sess.AuthAt, errs[1] = dynamo.TimeAttr(it[attrAuthAt])
	sess.LastSeen, errs[2] = dynamo.TimeAttr(it[attrLastSeen])
	if err := errors.Join(errs[:]...); err != nil {
		return Session{}, fmt.Errorf("portal: session row: %w", err)
	}
	now := s.now()
	if !now.Before(sess.Expires()) {
		return Session{}, ErrNoSession // TTL removes the rows
	}
	if now.Sub(sess.LastSeen) < touchEvery {
		return sess, nil
	}
	// Touch: conditional on lastSeen as read, so of concurrent requests one
	// writes and the others carry on; a failure only costs the session its
	// idle extension.
	prev := sess.LastSeen
	sess.LastSeen = now
	e := dynamo.Build(expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name(attrLastSeen), expression.Value(dynamo.Time(now))).
			Set(expression.Name(dynamo.AttrExpiresAt), expression.Value(dynamo.N(epoch(sess.Expires()))))).
		WithCondition(expression.Name(attrLastSeen).Equal(expression.Value(dynamo.Time(prev)))))
	_, err = s.st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table()), Key: key,
		UpdateExpression: e.Update(), ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		s.Logger.WarnContext(ctx, "portal: session not touched", "error", err)
	}
	return sess, nil
}

// SignOut ends the session of token (nothing when there is none).
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" || len(token) > maxTokenLength {
		return nil
	}
	id := digest(skSession, token)
	out, err := s.st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table()),
		Key: dynamo.PKSK(sessionPK(id), skSession), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return fmt.Errorf("portal: sign out: %w", err)
	}
	if email := dynamo.StringAttr(out.Attributes[attrEmail]); email != "" {
		if _, err := s.st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table()),
			Key: dynamo.PKSK(accountPK(email), accountSessionSK(id))}); err != nil {
			return fmt.Errorf("portal: sign out: %w", err)
		}
	}
	return nil
}

// EndSessions ends every session of email.
func (s *Service) EndSessions(ctx context.Context, email string) error {
	items, err := s.queryAll(ctx, accountPK(email), dynamo.Tuple("session"))
	if err != nil {
		return err
	}
	ops := make([]types.TransactWriteItem, 0, 2*len(items))
	for _, it := range items {
		parts, err := dynamo.SplitTuple(dynamo.StringAttr(it[dynamo.AttrSK]))
		if err != nil || len(parts) != 2 {
			continue
		}
		ops = append(ops, dynamo.DeleteOp(s.table(), dynamo.PKSK(sessionPK(parts[1]), skSession), nil),
			dynamo.DeleteOp(s.table(), dynamo.PKSK(accountPK(email), accountSessionSK(parts[1])), nil))
	}
	if err := s.transactChunks(ctx, ops); err != nil {
		return fmt.Errorf("portal: end the sessions of a member: %w", err)
	}
	return nil
}
