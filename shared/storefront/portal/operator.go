package portal

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// AddMember makes email a member of store slug with role r without an
// invitation: the operator's grant (make run's demo owner). A member
// already there keeps their role and added is false; the grant and its
// audit row are one transaction.
func (s *Service) AddMember(ctx context.Context, a Actor, slug, email string, r Role) (added bool, err error) {
	email, err = NormalizeEmail(email)
	if err != nil {
		return false, err
	}
	if _, err := ParseRole(string(r)); err != nil {
		return false, err
	}
	if _, err := s.Role(ctx, email, slug); err == nil {
		return false, nil
	} else if !errors.Is(err, ErrNotMember) {
		return false, err
	}
	now := s.now()
	ops := append(s.memberOps(slug, email, r, now), AuditOp(s.table(), slug, a, ActionJoin, string(r), now))
	err = s.st.Transact(ctx, ops)
	var failed *dynamo.ConditionFailedError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &failed) && (failed.Failed(0) || failed.Failed(1)):
		return false, nil // made a member meanwhile
	default:
		return false, fmt.Errorf("portal: add a member: %w", err)
	}
}
