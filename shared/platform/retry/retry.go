// Package retry is the one retry loop of Tollgate: an operation is attempted
// again when its failure is one a fresh attempt can cure (a transaction that
// lost a race, a record that changed between a read and a conditional write),
// a bounded number of times, with jittered exponential back-off between
// attempts where waiting helps.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Policy says how often and how patiently an operation is retried.
type Policy struct {
	// Attempts is the most attempts in all, the first included (< 1: one).
	Attempts int
	// Retryable reports whether a failure is worth another attempt; nil:
	// none is.
	Retryable func(error) bool
	// Backoff is the wait after failed attempt n (1-based); nil: none (the
	// next attempt reads fresh state and needs no pause).
	Backoff func(attempt int) time.Duration
}

// On returns a Retryable that accepts failures matching any of errs
// (errors.Is).
func On(errs ...error) func(error) bool {
	return func(err error) bool {
		for _, e := range errs {
			if errors.Is(err, e) {
				return true
			}
		}
		return false
	}
}

// Jittered returns an exponential back-off: about base after the first
// attempt, doubling after each further one, capped at ceiling, each wait
// drawn uniformly from its upper half so that racing callers spread out.
func Jittered(base, ceiling time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		return Exponential(base, ceiling, attempt, func(half time.Duration) time.Duration { return rand.N(half + 1) }) //nolint:gosec // G404: back-off jitter, not a secret
	}
}

// Exponential is the one back-off formula of Tollgate: the wait after
// failed attempt n (1-based) is base doubling per further attempt, capped
// at ceiling, of which the lower half is always waited and the upper half
// is jittered: d/2 + jitter(d/2), jitter answering a duration in [0, half].
func Exponential(base, ceiling time.Duration, attempt int, jitter func(half time.Duration) time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	return d/2 + jitter(d/2)
}

// Do runs op until it succeeds, fails in a way p.Retryable refuses, or has
// been attempted p.Attempts times, and returns its last result. It stops
// early with ctx's error when ctx ends during a back-off.
func Do[T any](ctx context.Context, p Policy, op func(ctx context.Context) (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := op(ctx)
		if err == nil || attempt >= p.Attempts || p.Retryable == nil || !p.Retryable(err) {
			return v, err
		}
		if p.Backoff != nil {
			if err := sleep(ctx, p.Backoff(attempt)); err != nil {
				return v, err
			}
		}
	}
}

// sleep waits d or until ctx ends, returning ctx's error then.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
