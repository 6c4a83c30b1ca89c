package portal

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Membership is a store a member belongs to, and the role there.
type Membership struct {
	Slug string
	Role Role
}

// Member is a member of a store's team.
type Member struct {
	Email string
	Role  Role
	Since time.Time
}

// Memberships lists the stores email belongs to, by slug.
func (s *Service) Memberships(ctx context.Context, email string) ([]Membership, error) {
	items, err := s.queryAll(ctx, memberPK(email), dynamo.Tuple("store"))
	if err != nil {
		return nil, err
	}
	out := make([]Membership, 0, len(items))
	for _, it := range items {
		parts, err := dynamo.SplitTuple(dynamo.StringAttr(it[dynamo.AttrSK]))
		if err != nil || len(parts) != 2 {
			return nil, fmt.Errorf("portal: membership row of %s has a malformed sort key", email)
		}
		out = append(out, Membership{Slug: parts[1], Role: Role(dynamo.StringAttr(it[attrRole]))})
	}
	return out, nil
}

// Role is email's role in store slug; ErrNotMember when it has none.
func (s *Service) Role(ctx context.Context, email, slug string) (Role, error) {
	it, err := s.get(ctx, dynamo.PKSK(memberPK(email), storeSK(slug)))
	if err != nil {
		return "", err
	}
	if it == nil {
		return "", ErrNotMember
	}
	return Role(dynamo.StringAttr(it[attrRole])), nil
}

// Team lists the members of store slug, owners first, then by address.
func (s *Service) Team(ctx context.Context, slug string) ([]Member, error) {
	items, err := s.queryAll(ctx, teamPK(slug), dynamo.Tuple("member"))
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(items))
	for _, it := range items {
		since, _ := dynamo.TimeAttr(it[dynamo.AttrCreatedAt])
		out = append(out, Member{Email: dynamo.StringAttr(it[attrEmail]), Role: Role(dynamo.StringAttr(it[attrRole])), Since: since})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Role == RoleOwner) != (out[j].Role == RoleOwner) {
			return out[i].Role == RoleOwner
		}
		return out[i].Email < out[j].Email
	})
	return out, nil
}

// Invitation is a pending invitation to a store.
type Invitation struct {
	Email   string
	Role    Role
	Inviter string
	Expires time.Time
}

// Invitations lists store slug's pending invitations (expired ones left
// out), by address.
func (s *Service) Invitations(ctx context.Context, slug string) ([]Invitation, error) {
	items, err := s.queryAll(ctx, teamPK(slug), dynamo.Tuple("invite"))
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []Invitation
	for _, it := range items {
		exp, err := dynamo.IntAttr(it[dynamo.AttrExpiresAt])
		if err != nil || !now.Before(time.Unix(exp, 0)) {
			continue
		}
		out = append(out, Invitation{Email: dynamo.StringAttr(it[attrEmail]), Role: Role(dynamo.StringAttr(it[attrRole])),
			Inviter: dynamo.StringAttr(it[attrInviter]), Expires: time.Unix(exp, 0).UTC()})
	}
	return out, nil
}

// memberOps are the writes that make email a member of slug with role r:
// both rows (conditional on none being there) and, for an owner, the
// store's owner count.
func (s *Service) memberOps(slug, email string, r Role, at time.Time) []types.TransactWriteItem {
	row := func(pk, sk string) item {
		return item{dynamo.AttrPK: dynamo.S(pk), dynamo.AttrSK: dynamo.S(sk), attrRole: dynamo.S(string(r)),
			attrEmail: dynamo.S(email), attrStore: dynamo.S(slug), dynamo.AttrCreatedAt: dynamo.Time(at)}
	}
	ops := []types.TransactWriteItem{
		dynamo.PutNewOp(s.table(), row(memberPK(email), storeSK(slug))),
		dynamo.PutNewOp(s.table(), row(teamPK(slug), teamMemberSK(email))),
	}
	if r == RoleOwner {
		ops = append(ops, s.ownersOp(slug, 1))
	}
	return ops
}

// ownersOp adds delta to store slug's owner count; a decrease is
// conditional on another owner remaining, so concurrent demotions cannot
// both take the last two owners away.
func (s *Service) ownersOp(slug string, delta int) types.TransactWriteItem {
	u := expression.Add(expression.Name(attrOwners), expression.Value(delta))
	var cond *expression.ConditionBuilder
	if delta < 0 {
		cond = dynamo.Cond(expression.Name(attrOwners).GreaterThan(expression.Value(-delta)))
	}
	return dynamo.UpdateOp(s.table(), dynamo.PKSK(teamPK(slug), skTeam), u, cond)
}

// roleIs is the condition that a member row still holds role r.
func roleIs(r Role) *expression.ConditionBuilder {
	return dynamo.Cond(expression.Name(attrRole).Equal(expression.Value(string(r))))
}

// changeAttempts bounds how often a team change is tried again when the
// member's role changed between its read and its write.
const changeAttempts = 3

// SetRole gives email role r in store slug, with its audit row in the same
// transaction. ErrNotMember when email is not a member; ErrLastOwner when
// it is the store's last owner and r is not owner.
func (s *Service) SetRole(ctx context.Context, a Actor, slug, email string, r Role) error {
	if _, err := ParseRole(string(r)); err != nil {
		return err
	}
	return s.change(ctx, slug, email, func(old Role, now time.Time) []types.TransactWriteItem {
		if old == r {
			return nil
		}
		set := expression.Set(expression.Name(attrRole), expression.Value(string(r)))
		ops := []types.TransactWriteItem{
			dynamo.UpdateOp(s.table(), dynamo.PKSK(teamPK(slug), teamMemberSK(email)), set, roleIs(old)),
			dynamo.UpdateOp(s.table(), dynamo.PKSK(memberPK(email), storeSK(slug)), set, roleIs(old)),
		}
		switch {
		case old == RoleOwner:
			ops = append(ops, s.ownersOp(slug, -1))
		case r == RoleOwner:
			ops = append(ops, s.ownersOp(slug, 1))
		}
		return append(ops, AuditOp(s.table(), slug, a, ActionSetRole, email+" "+string(old)+" -> "+string(r), now))
	})
}

// Remove takes email out of store slug's team (its audit row in the same
// transaction) and ends all of email's sessions: a removed member signs in
// again, to whatever stores are left. ErrNotMember, ErrLastOwner as SetRole.
func (s *Service) Remove(ctx context.Context, a Actor, slug, email string) error {
	err := s.change(ctx, slug, email, func(old Role, now time.Time) []types.TransactWriteItem {
		ops := []types.TransactWriteItem{
			dynamo.DeleteOp(s.table(), dynamo.PKSK(teamPK(slug), teamMemberSK(email)), roleIs(old)),
			dynamo.DeleteOp(s.table(), dynamo.PKSK(memberPK(email), storeSK(slug)), roleIs(old)),
		}
		if old == RoleOwner {
			ops = append(ops, s.ownersOp(slug, -1))
		}
		return append(ops, AuditOp(s.table(), slug, a, ActionRemoveMember, email, now))
	})
	if err != nil {
		return err
	}
	return s.EndSessions(ctx, email)
}

// change reads email's role in slug and writes ops(role) as one
// transaction (nothing when ops is empty), again when the role changed
// meanwhile.
func (s *Service) change(ctx context.Context, slug, email string, ops func(old Role, now time.Time) []types.TransactWriteItem) error {
	for attempt := 1; ; attempt++ {
		old, err := s.Role(ctx, email, slug)
		if err != nil {
			return err
		}
		items := ops(old, s.now())
		if len(items) == 0 {
			return nil
		}
		err = s.st.Transact(ctx, items)
		var failed *dynamo.ConditionFailedError
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &failed):
			return fmt.Errorf("portal: change %s in %s: %w", email, slug, err)
		case failed.Failed(2) && old == RoleOwner:
			return ErrLastOwner
		case attempt == changeAttempts:
			return fmt.Errorf("portal: change %s in %s: the team kept changing: %w", email, slug, err)
		}
	}
}
