package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var (
	errAgain = errors.New("again")
	errFinal = errors.New("final")
)

func TestDo(t *testing.T) {
	tests := []struct {
		name      string
		policy    Policy
		failures  []error // what attempts 1..n return before succeeding
		wantCalls int
		wantErr   error
	}{
		{"success at once", Policy{Attempts: 3, Retryable: On(errAgain)}, nil, 1, nil},
		{"cured on the second attempt", Policy{Attempts: 3, Retryable: On(errAgain)}, []error{errAgain}, 2, nil},
		{"attempts used up", Policy{Attempts: 3, Retryable: On(errAgain)}, []error{errAgain, errAgain, errAgain, errAgain}, 3, errAgain},
		{"not retryable", Policy{Attempts: 3, Retryable: On(errAgain)}, []error{errFinal}, 1, errFinal},
		{"wrapped retryable", Policy{Attempts: 2, Retryable: On(errAgain)}, []error{errors.Join(errFinal, errAgain)}, 2, nil},
		{"nil Retryable retries nothing", Policy{Attempts: 3}, []error{errAgain}, 1, errAgain},
		{"zero attempts means one", Policy{Retryable: On(errAgain)}, []error{errAgain}, 1, errAgain},
		{"with back-off", Policy{Attempts: 3, Retryable: On(errAgain), Backoff: Jittered(time.Microsecond, time.Millisecond)}, []error{errAgain, errAgain}, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			v, err := Do(context.Background(), tt.policy, func(context.Context) (int, error) {
				calls++
				if calls <= len(tt.failures) {
					return -calls, tt.failures[calls-1]
				}
				return calls, nil
			})
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if want := calls; tt.wantErr == nil && v != want {
				t.Errorf("value = %d, want the last attempt's %d", v, want)
			}
			if tt.wantErr != nil && v != -calls {
				t.Errorf("value = %d, want the failed attempt's %d", v, -calls)
			}
		})
	}
}

func TestDoStopsWhenContextEndsDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Do(ctx, Policy{Attempts: 5, Retryable: On(errAgain), Backoff: func(int) time.Duration { return time.Hour }},
		func(context.Context) (int, error) {
			calls++
			cancel()
			return 0, errAgain
		})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("err = %v after %d calls, want context.Canceled after 1", err, calls)
	}
}

func TestJitteredStaysWithinBounds(t *testing.T) {
	b := Jittered(10*time.Millisecond, 80*time.Millisecond)
	for attempt, ceiling := range map[int]time.Duration{1: 10 * time.Millisecond, 2: 20 * time.Millisecond, 3: 40 * time.Millisecond, 4: 80 * time.Millisecond, 9: 80 * time.Millisecond} {
		for range 200 {
			d := b(attempt)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, d, ceiling/2, ceiling)
			}
		}
	}
}

// Exponential's schedule with the jitter pinned at either end of the upper
// half: the same numbers for Jittered and the outbox's policy.
func TestExponentialSchedule(t *testing.T) {
	none := func(time.Duration) time.Duration { return 0 }
	full := func(half time.Duration) time.Duration { return half }
	for attempt, want := range map[int]time.Duration{0: 30 * time.Second, 1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute,
		7: 32 * time.Minute, 8: time.Hour, 50: time.Hour} {
		if got := Exponential(30*time.Second, time.Hour, attempt, none); got != want/2 {
			t.Errorf("attempt %d, no jitter: %s, want %s", attempt, got, want/2)
		}
		if got := Exponential(30*time.Second, time.Hour, attempt, full); got != want {
			t.Errorf("attempt %d, full jitter: %s, want %s", attempt, got, want)
		}
	}
}
