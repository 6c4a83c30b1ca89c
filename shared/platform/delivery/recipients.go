package delivery

import (
	"context"
	"fmt"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// TargetFunc finds the target of one kind of recipient by its id.
type TargetFunc func(ctx context.Context, id string) (Target, error)

// Recipients routes an outbox recipient, the tuple (kind, id), to the
// TargetFunc of its kind: each product registers its own kind (payments:
// "merchant"; the store platform: "store"), so the dispatcher knows none.
type Recipients map[string]TargetFunc

// Resolve finds recipient's target; ErrNoTarget when it has none.
func (r Recipients) Resolve(ctx context.Context, recipient string) (Target, error) {
	parts, err := dynamo.SplitTuple(recipient)
	if err != nil || len(parts) != 2 {
		return Target{}, fmt.Errorf("%w: %q is not a recipient", ErrNoTarget, recipient)
	}
	find, ok := r[parts[0]]
	if !ok || find == nil {
		return Target{}, fmt.Errorf("%w: unknown kind of recipient %q", ErrNoTarget, recipient)
	}
	return find(ctx, parts[1])
}
