package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// TestEventType is the type of the event the portal's Send test event
// posts.
const TestEventType = "test"

// TestDelivery is the outcome of SendTestEvent: the event's id and what
// the store's receiver answered (Answer.Body: its first bytes, raw; a page
// escapes them).
type TestDelivery struct {
	EventID string
	delivery.Answer
	Err error // why it was not delivered (nil: a 2xx)
}

// SendTestEvent posts a "test" event to store slug's webhook URL now,
// synchronously, as the dispatcher posts every event: the store's target
// (WebhookTargets: its URL, signature header, current and still-valid
// previous secret) and delivery.Post through sender (the URL rules, the
// client's dialer in prod, the signatures). Nothing is recorded: it is no outbox event. An
// error is a failure to read the store; a store without a target, a
// refused URL or a non-2xx answer is TestDelivery.Err.
func SendTestEvent(ctx context.Context, st dynamo.Store, secret func(ctx context.Context, ref string) (string, error),
	sender delivery.Sender, slug string, now time.Time) (TestDelivery, error) {
	target, err := WebhookTargets(st, secret, func() time.Time { return now })(ctx, slug)
	out := TestDelivery{EventID: fmt.Sprintf("store:%s:test:%d", slug, now.UnixNano())}
	switch {
	case err != nil && !isNoTarget(err):
		return out, err
	case err != nil:
		out.Err = err
		return out, nil
	case target.URL == "" || target.Secret == "":
		out.Err = fmt.Errorf("%w: store %s has no webhook URL or no signing secret", delivery.ErrNoTarget, slug)
		return out, nil
	}
	payload, _ := json.Marshal(map[string]any{"event": TestEventType, "event_id": out.EventID, "store": slug,
		"occurred_at": now.UTC().Format(time.RFC3339)}) // plain values: cannot fail
	out.Answer, out.Err = sender.Post(ctx, target, delivery.Message{ID: out.EventID, Type: TestEventType, Payload: payload, At: now})
	return out, nil
}

func isNoTarget(err error) bool { return errors.Is(err, delivery.ErrNoTarget) }
