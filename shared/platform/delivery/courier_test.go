package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/mail"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
)

// sendings is a courier whose one call answers what outcome says for the
// event (nil: sent); it counts the calls made.
type sendings struct {
	mu      sync.Mutex
	calls   map[string]int
	outcome func(id string, call int) error
}

func (s *sendings) Prepare(_ context.Context, ev outbox.Stored) (func(context.Context) (string, error), error) {
	return func(context.Context) (string, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls[ev.ID]++
		if err := s.outcome(ev.ID, s.calls[ev.ID]); err != nil {
			return "", err
		}
		return fmt.Sprintf("msg-%s-%d", ev.ID, s.calls[ev.ID]), nil
	}, nil
}

// A courier's outcomes, recorded as webhooks' are: a retryable failure is
// retried after the backoff and then sent once (its service id kept); a
// refusal is dead at once with the reason; an attempt that recorded its
// intent and no outcome is sent again (the at-least-once window), counted
// as Resent.
func TestCourierOutcomes(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			env := ddbtest.NewEnv(t, b, ddbtest.StackOptions{})
			box := outbox.Box{DB: env.Stack.DB, Table: env.Tables.Outbox}
			clk := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
			ctx := context.Background()
			for _, id := range []string{"flaky", "refused", "crashed"} {
				op, err := outbox.EnqueueOp(box.Table, outbox.Event{ID: id, Recipient: dynamo.Tuple("email", "shop"), Type: "email.receipt",
					Payload: json.RawMessage(`{}`), At: clk.Now()})
				if err != nil {
					t.Fatal(err)
				}
				if err := (dynamo.Store{DB: env.Stack.DB}).Transact(ctx, []types.TransactWriteItem{op}); err != nil {
					t.Fatal(err)
				}
			}
			// "crashed": an earlier dispatcher claimed it and recorded its
			// intent, then died before any outcome.
			c, ok, err := box.Claim(ctx, "crashed", clk.Now(), time.Minute)
			if err != nil || !ok {
				t.Fatal(ok, err)
			}
			if ok, err := box.Sending(ctx, c, clk.Now()); err != nil || !ok {
				t.Fatal(ok, err)
			}
			s := &sendings{calls: map[string]int{}, outcome: func(id string, call int) error {
				switch {
				case id == "flaky" && call == 1:
					return errors.New("SES SendEmail: TooManyRequestsException")
				case id == "refused":
					return fmt.Errorf("%w: MessageRejected: address suppressed", mail.ErrRefused)
				}
				return nil
			}}
			d := &delivery.Dispatcher{Box: box, Now: clk.Now, Couriers: map[string]delivery.Courier{"email": s},
				Resolver: delivery.ResolverFunc(func(context.Context, string) (delivery.Target, error) {
					t.Fatal("an email event was resolved as a webhook")
					return delivery.Target{}, nil
				})}
			st, err := d.Run(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if st.Failed != 1 || st.Dead != 1 || st.Delivered != 0 {
				t.Fatalf("first run %+v: want flaky failed, refused dead, crashed still leased", st)
			}
			refused, _, _ := box.Get(ctx, "refused")
			if refused.Status != outbox.StatusDead || refused.Attempts != 1 || refused.LastError == "" || !refused.SendingAt.IsZero() {
				t.Fatalf("refused: %+v", refused)
			}
			clk.Add(2 * time.Hour) // past the backoff and the crashed claim's lease
			st, err = d.Run(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if st.Delivered != 2 || st.Resent != 1 {
				t.Fatalf("second run %+v: want flaky and crashed delivered, crashed resent", st)
			}
			for id, want := range map[string]int{"flaky": 2, "refused": 1, "crashed": 1} {
				if got := s.calls[id]; got != want {
					t.Errorf("%s: %d calls, want %d", id, got, want)
				}
			}
			flaky, _, _ := box.Get(ctx, "flaky")
			if flaky.Status != outbox.StatusDelivered || flaky.SentRef != "msg-flaky-2" || !flaky.SendingAt.IsZero() || flaky.Attempts != 2 {
				t.Fatalf("flaky: %+v", flaky)
			}
			clk.Add(2 * time.Hour)
			if st, err := d.Run(ctx, 10); err != nil || !st.Idle() {
				t.Fatalf("a third run %+v (%v): nothing is due", st, err)
			}
		})
	}
}
