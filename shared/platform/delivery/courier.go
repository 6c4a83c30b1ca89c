package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/mail"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/retry"
)

// ErrRefused is the reason of an attempt refused in a way no retry
// changes (mail.ErrRefused: a bad address, a rejected message, a
// suppressed recipient): the event is dead at once, with the reason.
var ErrRefused = mail.ErrRefused

// Courier delivers the events of one kind of recipient by another means
// than a signed POST: a service whose send has no idempotency key (SES
// SendEmail). The dispatcher claims the event as any other (lease,
// ordering key, backoff, dead after the window, replay), then:
//
//  1. Prepare reads and renders what the event delivers, sending nothing;
//  2. the outbox records the intent (outbox.Box.Sending) on the event;
//  3. the returned send makes exactly one call of the service;
//  4. the outcome is recorded (Sent with the service's id, Failed, Dead),
//     retried a few times, with a context a shutdown does not cancel.
//
// An event is sent twice only when step 3 sent and step 4 was never
// recorded (the process died in between, or every retry of the write
// failed), or when the call failed without an answer (a timeout after
// the service took it): its next claim finds the intent with no outcome
// and sends again, logged and counted as Resent. That window is chosen
// over at-most-once because a lost receipt loses the buyer's keys, and
// kept small: one service call, the SDK's own retries off, the outcome
// write retried, no shutdown between the call and its record.
type Courier interface {
	// Prepare answers the one call that delivers ev. An error wrapping
	// ErrNoTarget makes ev undeliverable, one wrapping ErrRefused dead at
	// once; any other is a failed attempt, retried with the backoff.
	Prepare(ctx context.Context, ev outbox.Stored) (send func(ctx context.Context) (ref string, err error), err error)
}

// courier is the Courier of recipient's kind, if any.
func (d *Dispatcher) courier(recipient string) (Courier, bool) {
	if len(d.Couriers) == 0 {
		return nil, false
	}
	parts, err := dynamo.SplitTuple(recipient)
	if err != nil || len(parts) != 2 {
		return nil, false
	}
	c, ok := d.Couriers[parts[0]]
	return c, ok && c != nil
}

// recordPolicy retries the write of an outcome: a lost write of a sent
// email's outcome is a second email.
var recordPolicy = retry.Policy{Attempts: 4, Retryable: func(error) bool { return true }, Backoff: retry.Jittered(100*time.Millisecond, time.Second)}

// carry makes one courier attempt of claimed event c.
func (d *Dispatcher) carry(ctx context.Context, c outbox.Claim, courier Courier, st *Stats) (string, error) {
	log := d.logger().With("event_id", c.ID, "event_type", c.Type, "recipient", c.Recipient, "attempt", c.Attempts+1)
	if !c.SendingAt.IsZero() {
		st.Resent++
		log.WarnContext(ctx, "an earlier attempt began sending and recorded no outcome: sending again (at least once)",
			"sending_at", c.SendingAt.Format(time.RFC3339Nano))
	}
	send, prepErr := courier.Prepare(ctx, c.Stored)
	if prepErr == nil {
		ok, err := d.Box.Sending(ctx, c, d.now())
		if err != nil || !ok {
			// Nothing sent: due again when the lease ends.
			return "", err
		}
	}
	// From here the outcome is recorded even if a shutdown begins: the
	// service call is not interrupted between its request and its answer.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), Timeout+3*releaseTimeout)
	defer cancel()
	var ref string
	sendErr := prepErr
	start := time.Now()
	if prepErr == nil {
		sctx, cancelSend := context.WithTimeout(rctx, Timeout)
		ref, sendErr = send(sctx)
		cancelSend()
	}
	log = log.With("latency_ms", time.Since(start).Milliseconds())
	record := func(f func(context.Context) (bool, error)) (bool, error) {
		return retry.Do(rctx, recordPolicy, f)
	}
	switch {
	case sendErr == nil:
		ok, err := record(func(ctx context.Context) (bool, error) { return d.Box.Sent(ctx, c, d.now(), ref) })
		if err != nil {
			log.ErrorContext(ctx, "sent, outcome not recorded: sent again after the lease", "error", err)
			return "", err
		}
		st.Delivered++
		log.InfoContext(ctx, "delivered", "ref", ref, "recorded", ok)
		return d.next(rctx, c)
	case errors.Is(sendErr, ErrNoTarget):
		ok, err := record(func(ctx context.Context) (bool, error) { return d.Box.Undeliverable(ctx, c, d.now(), sendErr.Error()) })
		if err != nil {
			return "", err
		}
		st.Undeliverable++
		log.WarnContext(ctx, "undeliverable (replay it with cmd/outbox once it can be)", "reason", sendErr.Error(), "recorded", ok)
		return d.next(rctx, c)
	case errors.Is(sendErr, ErrRefused):
		ok, err := record(func(ctx context.Context) (bool, error) { return d.Box.Dead(ctx, c, d.now(), sendErr.Error()) })
		if err != nil {
			return "", err
		}
		st.Dead++
		log.ErrorContext(ctx, "refused for good: dead (replay it with cmd/outbox once the cause is fixed)", "reason", sendErr.Error(), "recorded", ok)
		return d.next(rctx, c)
	}
	state, err := retry.Do(rctx, recordPolicy, func(ctx context.Context) (string, error) {
		return d.Box.Failed(ctx, c, d.now(), sendErr.Error(), d.policy())
	})
	if err != nil {
		log.ErrorContext(ctx, "attempt failed, outcome not recorded", "reason", sendErr.Error(), "error", err)
		return "", fmt.Errorf("delivery: %s: %w", c.ID, err)
	}
	if state == outbox.StatusDead {
		st.Dead++
		log.ErrorContext(ctx, "dead after its retry window", "reason", sendErr.Error())
		return d.next(rctx, c)
	}
	st.Failed++
	log.WarnContext(ctx, "attempt failed", "reason", sendErr.Error())
	return "", nil
}
