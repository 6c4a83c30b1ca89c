package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

var ctx = context.Background()

func charge(key, token string, amount int64, capture bool) psp.Charge {
	return psp.Charge{IdempotencyKey: key, PSPAlias: token, Amount: amount, Currency: "EUR", Reason: "order 1", Capture: capture,
		Metadata: map[string]string{"tollgate_transaction": "t1"}}
}

// pspErr asserts err is a *psp.Error with the given retryability.
func pspErr(t *testing.T, err error, retryable bool) {
	t.Helper()
	var pe *psp.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v: want a *psp.Error", err)
	}
	if pe.Retryable != retryable || pe.PSP != psp.Sandbox {
		t.Fatalf("error %v: retryable %t, want %t", err, pe.Retryable, retryable)
	}
}

func TestChargeTokens(t *testing.T) {
	tests := []struct {
		token   string
		capture bool
		status  psp.Status
		message string
	}{
		{TokenVisa, false, psp.StatusSuccess, ""},
		{TokenVisa, true, psp.StatusSuccess, ""},
		{TokenChargeDeclined, false, psp.StatusFail, DeclineMessage},
		{TokenChargeDeclined, true, psp.StatusFail, DeclineMessage},
		{TokenPending, false, psp.StatusPending, PendingMessage},
		{TokenPendingDeclined, true, psp.StatusPending, PendingMessage},
		{TokenCaptureDeclined, false, psp.StatusSuccess, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/capture=%t", tt.token, tt.capture), func(t *testing.T) {
			a := New(Options{})
			res, err := a.Charge(ctx, psp.Credentials{}, charge("key-1", tt.token, 1250, tt.capture))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status || res.Message != tt.message || res.PSPTransactionID == "" {
				t.Fatalf("got %+v, want %s %q", res, tt.status, tt.message)
			}
			if c := a.Counts(); c.Charges != 1 {
				t.Fatalf("counts %+v", c)
			}
		})
	}
}

func TestChargeRefusals(t *testing.T) {
	tests := []struct {
		name string
		ch   psp.Charge
	}{
		{"unknown token", charge("k", "tok_nope", 100, false)},
		{"zero amount", charge("k", TokenVisa, 0, false)},
		{"lower-case currency", psp.Charge{IdempotencyKey: "k", PSPAlias: TokenVisa, Amount: 1, Currency: "eur"}},
		{"no key", charge("", TokenVisa, 100, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(Options{})
			_, err := a.Charge(ctx, psp.Credentials{}, tt.ch)
			pspErr(t, err, false)
			if c := a.Counts(); c.Charges != 0 {
				t.Fatalf("a refused charge was counted: %+v", c)
			}
		})
	}
}

func TestIdempotency(t *testing.T) {
	a := New(Options{})
	first, err := a.Charge(ctx, psp.Credentials{}, charge("key-1", TokenVisa, 500, true))
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.Charge(ctx, psp.Credentials{}, charge("key-1", TokenVisa, 500, true))
	if err != nil || again != first {
		t.Fatalf("replay: %+v %v, want %+v", again, err, first)
	}
	_, err = a.Charge(ctx, psp.Credentials{}, charge("key-1", TokenVisa, 501, true))
	pspErr(t, err, false)
	// The same key for another operation is another request too.
	_, err = a.Refund(ctx, psp.Credentials{}, first.PSPTransactionID, "key-1", 100, "")
	pspErr(t, err, false)
	if c, n, r := a.Counts(), a.Executed("key-1"), a.Requests("key-1"); c.Charges != 1 || n != 1 || r != 4 {
		t.Fatalf("counts %+v executed %d requests %d", c, n, r)
	}
}

// TestConcurrentDuplicates: 50 identical charges at once execute once and
// all answer the same (run with -race).
func TestConcurrentDuplicates(t *testing.T) {
	a := New(Options{})
	const n = 50
	results := make([]psp.Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := a.Charge(ctx, psp.Credentials{}, charge("same-key", TokenVisa, 700, false))
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r != results[0] || r.Status != psp.StatusSuccess {
			t.Fatalf("answers differ: %+v vs %+v", r, results[0])
		}
	}
	if c := a.Counts(); c.Charges != 1 || a.Requests("same-key") != n {
		t.Fatalf("counts %+v requests %d", c, a.Requests("same-key"))
	}
}

func TestLostAnswerAndUnavailable(t *testing.T) {
	tests := []struct {
		token           string
		executedAtFirst int
	}{
		{TokenTimeout, 1},     // charged, answer lost
		{TokenUnavailable, 0}, // not charged
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			a := New(Options{})
			_, err := a.Charge(ctx, psp.Credentials{}, charge("k", tt.token, 900, true))
			pspErr(t, err, true)
			if got := a.Executed("k"); got != tt.executedAtFirst {
				t.Fatalf("executed %d after the first call, want %d", got, tt.executedAtFirst)
			}
			res, err := a.Charge(ctx, psp.Credentials{}, charge("k", tt.token, 900, true))
			if err != nil || res.Status != psp.StatusSuccess {
				t.Fatalf("retry: %+v %v", res, err)
			}
			if c := a.Counts(); c.Charges != 1 {
				t.Fatalf("charged %d times", c.Charges)
			}
		})
	}
}

func TestInjectedFaults(t *testing.T) {
	for _, f := range []Fault{Unavailable, LoseAnswer} {
		t.Run(fmt.Sprint(f), func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			a := New(Options{Fault: func(op Op, key string) Fault {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if op == OpCapture && calls == 2 {
					return f
				}
				return NoFault
			}})
			pre, err := a.Charge(ctx, psp.Credentials{}, charge("c", TokenVisa, 100, false))
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Capture(ctx, psp.Credentials{}, pre.PSPTransactionID, "cap", 100)
			pspErr(t, err, true)
			res, err := a.Capture(ctx, psp.Credentials{}, pre.PSPTransactionID, "cap", 100)
			if err != nil || res.Status != psp.StatusSuccess {
				t.Fatalf("retry: %+v %v", res, err)
			}
			if c := a.Counts(); c.Captures != 1 {
				t.Fatalf("captured %d times", c.Captures)
			}
		})
	}
}

// step is one call in a lifecycle; want is a status, or "error" for a
// non-retryable *psp.Error.
type step struct {
	op     Op
	key    string
	amount int64
	want   string
}

func TestLifecycle(t *testing.T) {
	tests := []struct {
		name    string
		token   string
		capture bool
		steps   []step
	}{
		{"capture then refunds up to the amount", TokenVisa, false, []step{
			{OpCapture, "cap", 1000, "SUCCESS"},
			{OpCapture, "cap", 1000, "SUCCESS"}, // replay
			{OpCapture, "cap2", 1000, "error"},  // captured already
			{OpReverse, "rev", 0, "error"},      // reverse after capture
			{OpRefund, "r1", 600, "SUCCESS"},
			{OpRefund, "r2", 500, "error"}, // 1100 > 1000
			{OpRefund, "r3", 400, "SUCCESS"},
			{OpRefund, "r1", 600, "SUCCESS"}, // replay, not a third refund
			{OpRefund, "r4", 1, "error"},
		}},
		{"partial capture bounds refunds", TokenVisa, false, []step{
			{OpCapture, "cap", 700, "SUCCESS"},
			{OpRefund, "r1", 701, "error"},
			{OpRefund, "r1", 700, "SUCCESS"},
		}},
		{"capture above the amount", TokenVisa, false, []step{
			{OpCapture, "cap", 1001, "error"},
			{OpCapture, "cap", 1000, "SUCCESS"}, // the refused key was not recorded
		}},
		{"reverse then capture", TokenVisa, false, []step{
			{OpRefund, "r0", 100, "error"}, // not captured
			{OpReverse, "rev", 0, "SUCCESS"},
			{OpReverse, "rev", 0, "SUCCESS"},  // replay
			{OpReverse, "rev2", 0, "error"},   // canceled already
			{OpCapture, "cap", 1000, "error"}, // capture after reverse
		}},
		{"authorization refunds", TokenVisa, true, []step{
			{OpCapture, "cap", 1000, "error"},
			{OpReverse, "rev", 0, "error"},
			{OpRefund, "r1", 1000, "SUCCESS"},
		}},
		{"declined capture stays capturable", TokenCaptureDeclined, false, []step{
			{OpCapture, "cap", 1000, "FAIL"},
			{OpCapture, "cap", 1000, "FAIL"},
			{OpReverse, "rev", 0, "SUCCESS"},
		}},
		{"declined charge", TokenChargeDeclined, false, []step{
			{OpCapture, "cap", 1000, "error"},
			{OpRefund, "r", 1000, "error"},
		}},
		{"pending cannot be captured before it settles", TokenPending, false, []step{
			{OpCapture, "cap", 1000, "error"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(Options{})
			pre, err := a.Charge(ctx, psp.Credentials{}, charge("charge", tt.token, 1000, tt.capture))
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				var res psp.Result
				switch s.op {
				case OpCapture:
					res, err = a.Capture(ctx, psp.Credentials{}, pre.PSPTransactionID, s.key, s.amount)
				case OpReverse:
					res, err = a.Reverse(ctx, psp.Credentials{}, pre.PSPTransactionID, s.key, "customer changed mind")
				case OpRefund:
					res, err = a.Refund(ctx, psp.Credentials{}, pre.PSPTransactionID, s.key, s.amount, "returned")
				}
				got := string(res.Status)
				if err != nil {
					pspErr(t, err, false)
					got = "error"
				}
				if got != s.want {
					t.Fatalf("step %d %+v: got %s (%+v, %v)", i, s, got, res, err)
				}
			}
		})
	}
}

// TestConcurrentRefunds: 20 refunds of 100 racing on a 1000 charge: exactly
// 10 succeed.
func TestConcurrentRefunds(t *testing.T) {
	a := New(Options{})
	auth, err := a.Charge(ctx, psp.Credentials{}, charge("charge", TokenVisa, 1000, true))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, err := a.Refund(ctx, psp.Credentials{}, auth.PSPTransactionID, fmt.Sprint("refund-", i), 100, ""); err == nil && res.Status == psp.StatusSuccess {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 10 || a.Counts().Refunds != 10 {
		t.Fatalf("%d refunds succeeded (%+v), want 10", ok, a.Counts())
	}
}

func TestSettle(t *testing.T) {
	tests := []struct {
		token   string
		capture bool
		kind    psp.NotificationKind
		status  psp.Status
		next    func(a *Adapter, id string) (psp.Result, error)
		want    string
	}{
		{TokenPending, false, psp.NotifySucceeded, psp.StatusSuccess, func(a *Adapter, id string) (psp.Result, error) {
			return a.Capture(ctx, psp.Credentials{}, id, "cap", 1000)
		}, "SUCCESS"},
		{TokenPending, true, psp.NotifySucceeded, psp.StatusSuccess, func(a *Adapter, id string) (psp.Result, error) {
			return a.Refund(ctx, psp.Credentials{}, id, "ref", 1000, "")
		}, "SUCCESS"},
		{TokenPendingDeclined, false, psp.NotifyFailed, psp.StatusFail, func(a *Adapter, id string) (psp.Result, error) {
			return a.Capture(ctx, psp.Credentials{}, id, "cap", 1000)
		}, "error"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/capture=%t", tt.token, tt.capture), func(t *testing.T) {
			a := New(Options{})
			res, err := a.Charge(ctx, psp.Credentials{}, charge("charge", tt.token, 1000, tt.capture))
			if err != nil || res.Status != psp.StatusPending {
				t.Fatalf("%+v %v", res, err)
			}
			n, err := a.Settle(res.PSPTransactionID)
			if err != nil {
				t.Fatal(err)
			}
			if n.Kind != tt.kind || n.Status != tt.status || n.PSPTransactionID != res.PSPTransactionID || n.Amount != 1000 ||
				n.Currency != "EUR" || n.EventID == "" || n.Metadata["tollgate_transaction"] != "t1" || n.PSP != psp.Sandbox {
				t.Fatalf("notification %+v", n)
			}
			if _, err := a.Settle(res.PSPTransactionID); !errors.Is(err, ErrNotPending) {
				t.Fatalf("second settle: %v", err)
			}
			// The charge's own replay still answers what was answered.
			if again, _ := a.Charge(ctx, psp.Credentials{}, charge("charge", tt.token, 1000, tt.capture)); again != res {
				t.Fatalf("replay %+v", again)
			}
			got := "error"
			if r, err := tt.next(a, res.PSPTransactionID); err == nil {
				got = string(r.Status)
			}
			if got != tt.want {
				t.Fatalf("after settlement: %s, want %s", got, tt.want)
			}
		})
	}
}

// TestSettleAfter: the automatic settlement reaches Notify (retried while it
// fails). Waits on a channel, no timed assertion.
func TestSettleAfter(t *testing.T) {
	got := make(chan psp.Notification, 1)
	var mu sync.Mutex
	tries := 0
	a := New(Options{SettleAfter: 1, Notify: func(_ context.Context, n psp.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		tries++
		if tries == 1 {
			return errors.New("receiver down")
		}
		got <- n
		return nil
	}})
	res, err := a.Charge(ctx, psp.Credentials{}, charge("charge", TokenPending, 1000, false))
	if err != nil {
		t.Fatal(err)
	}
	n := <-got
	if n.Kind != psp.NotifySucceeded || n.PSPTransactionID != res.PSPTransactionID {
		t.Fatalf("notification %+v", n)
	}
}

// TestOtherProcess: an id made by another sandbox (another Lambda
// container) is recognised from what it encodes.
func TestOtherProcess(t *testing.T) {
	made, err := New(Options{}).Charge(ctx, psp.Credentials{}, charge("charge", TokenVisa, 1000, false))
	if err != nil {
		t.Fatal(err)
	}
	a := New(Options{})
	if res, err := a.Capture(ctx, psp.Credentials{}, made.PSPTransactionID, "cap", 1000); err != nil || res.Status != psp.StatusSuccess {
		t.Fatalf("capture in another process: %+v %v", res, err)
	}
	if _, err := a.Refund(ctx, psp.Credentials{}, made.PSPTransactionID, "r", 1001, ""); err == nil {
		t.Fatal("refund above the amount accepted")
	}
	for _, id := range []string{"pi_123", "sbx_pi_x_1_EUR_000000000000000000000000", "sbx_pi_m_-5_EUR_000000000000000000000000", "sbx_pi_m_5_eu_000000000000000000000000"} {
		_, err := a.Capture(ctx, psp.Credentials{}, id, "cap-"+id, 1)
		pspErr(t, err, false)
	}
}

func TestCanceledContext(t *testing.T) {
	a := New(Options{})
	c, cancel := context.WithCancel(ctx)
	cancel()
	_, err := a.Charge(c, psp.Credentials{}, charge("k", TokenVisa, 1, false))
	pspErr(t, err, true)
	if a.Executed("k") != 0 {
		t.Fatal("executed under a canceled context")
	}
}
