// Package sandbox is the SANDBOX PSP: a deterministic, in-process PSP for
// test mode (make run's default) and for the payments tests. Like Stripe's
// test cards, the pspAlias (a token) decides the outcome:
//
//	tok_visa             succeeds (pre-authorization: capturable; authorization: captured)
//	tok_chargeDeclined   FAIL: "Your card was declined." (decline code generic_decline)
//	tok_pending          PENDING; settles SUCCESS later (Settle, or by itself after SettleAfter)
//	tok_pendingDeclined  PENDING; settles FAIL later
//	tok_timeout          the charge is made, then its answer is lost: the first call with
//	                     a key answers a retryable *psp.Error, the retry (same key) the SUCCESS
//	tok_unavailable      the first call with a key answers a retryable *psp.Error before
//	                     charging (a 503); the retry charges
//	tok_captureDeclined  pre-authorizes; every capture answers FAIL (it stays capturable)
//
// Any other alias is refused as an unknown payment method (a non-retryable
// *psp.Error, as Stripe's 400 resource_missing).
//
// It behaves like a PSP with idempotency keys: a key presented again with
// the same request answers the recorded result without moving money again,
// with another request a non-retryable error; capture, reverse and refund
// follow the PaymentIntent's state (a reversed intent cannot be captured,
// a captured one cannot be reversed, refunds never exceed the captured
// amount). It counts what it executed (Counts, Executed) so tests can prove
// that money moved once. Requests that break a rule answer a non-retryable
// *psp.Error, as Stripe's 400s do.
//
// State lives in this process (make run, tests). Ids encode the charge
// (sbx_pi_<m|a>_<amount>_<currency>_<digest>), so an id made by another
// process (another Lambda container) is recognised: it is taken as a
// settled charge of that amount, and capture and refund work across
// containers; the rules that need its history (refund totals, capture after
// reverse) are then the payments domain's alone.
//
// Settlement: Settle(pspTransactionID) settles a PENDING charge now and
// returns its notification (psp.Notification, Kind NotifySucceeded or
// NotifyFailed), to be applied through the same path as a real PSP's
// webhook. With Options.SettleAfter and Options.Notify, a PENDING charge
// also settles by itself after that delay and the notification is handed
// to Notify (retried like a webhook while Notify returns an error).
package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

// The documented test tokens (pspAlias values).
const (
	TokenVisa            = "tok_visa"
	TokenChargeDeclined  = "tok_chargeDeclined" //nolint:gosec // G101: a sandbox card token's name, not a credential
	TokenPending         = "tok_pending"
	TokenPendingDeclined = "tok_pendingDeclined" //nolint:gosec // G101: a sandbox card token's name, not a credential
	TokenTimeout         = "tok_timeout"
	TokenUnavailable     = "tok_unavailable"
	TokenCaptureDeclined = "tok_captureDeclined" //nolint:gosec // G101: a sandbox card token's name, not a credential
)

// Tokens lists the test tokens, in the documented order.
var Tokens = []string{TokenVisa, TokenChargeDeclined, TokenPending, TokenPendingDeclined, TokenTimeout, TokenUnavailable, TokenCaptureDeclined}

// Messages of the sandbox's FAIL results and pending answers.
const (
	DeclineMessage        = "Your card was declined. (generic_decline)"
	CaptureDeclineMessage = "The capture was declined by the issuer. (generic_decline)"
	PendingMessage        = "The payment is processing; a notification will settle it."
)

// Op names an operation, for counts and fault injection.
type Op string

// The operations that move money.
const (
	OpCharge  Op = "charge"
	OpCapture Op = "capture"
	OpReverse Op = "reverse"
	OpRefund  Op = "refund"
)

// Fault is what an injected fault does to one call.
type Fault int

// Faults, for the payments domain's fault sweeps.
const (
	NoFault Fault = iota
	// Unavailable answers a retryable error before executing (a 5xx).
	Unavailable
	// LoseAnswer executes and records the call, then answers a retryable
	// error (a timeout after the PSP acted).
	LoseAnswer
)

// ErrNotPending is Settle's error for an id that is not a PENDING charge.
var ErrNotPending = errors.New("sandbox: not a pending charge")

// Options configure the sandbox. The zero value is deterministic: PENDING
// charges settle only through Settle.
type Options struct {
	// SettleAfter is the delay after which a PENDING charge settles by
	// itself and its notification goes to Notify (0: never by itself).
	SettleAfter time.Duration
	// Notify receives the automatic settlements, as a PSP's webhook would
	// reach the payments domain; an error is retried after SettleAfter, at
	// most 5 times.
	Notify func(context.Context, psp.Notification) error
	// Fault, when set, is asked before every money-moving call.
	Fault func(op Op, idempotencyKey string) Fault
}

// Counts are the operations the sandbox executed (once per idempotency
// key, whatever their outcome; replays are not counted).
type Counts struct {
	Charges, Captures, Reversals, Refunds int
}

// Adapter is the sandbox PSP. It is safe for concurrent use.
type Adapter struct {
	opts Options

	mu       sync.Mutex
	calls    map[string]*call // by idempotency key
	intents  map[string]*intent
	counts   Counts
	requests map[string]int // presentations per key, replays included
	failed   map[string]bool
	events   int
}

type call struct {
	op          Op
	fingerprint string
	result      psp.Result
}

type state int

const (
	requiresCapture state = iota
	processing
	succeeded
	canceled
	declined
)

type intent struct {
	id       string
	token    string
	manual   bool // a pre-authorization
	amount   int64
	currency string
	state    state
	captured int64
	refunded int64
	settleTo psp.Status
	metadata map[string]string
}

var _ psp.Adapter = (*Adapter)(nil)

// New returns an empty sandbox.
func New(opts Options) *Adapter {
	return &Adapter{
		opts:     opts,
		calls:    map[string]*call{},
		intents:  map[string]*intent{},
		requests: map[string]int{},
		failed:   map[string]bool{},
	}
}

// Type is SANDBOX.
func (a *Adapter) Type() psp.Type { return psp.Sandbox }

// TestModeOnly: the sandbox never serves live payments.
func (a *Adapter) TestModeOnly() bool { return true }

// ClientConfig names the test tokens a client may use as pspAlias.
func (a *Adapter) ClientConfig(psp.Credentials) map[string]string {
	return map[string]string{"testTokens": strings.Join(Tokens, ",")}
}

// Counts returns what was executed so far.
func (a *Adapter) Counts() Counts {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.counts
}

// Executed reports whether the call with this idempotency key was executed
// (1) or not (0): never more than once, however often it was presented.
func (a *Adapter) Executed(idempotencyKey string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.calls[idempotencyKey]; ok {
		return 1
	}
	return 0
}

// Requests is how often a key was presented (replays and failures included).
func (a *Adapter) Requests(idempotencyKey string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.requests[idempotencyKey]
}

// Charge pre-authorizes (ch.Capture false) or authorizes ch.
func (a *Adapter) Charge(ctx context.Context, _ psp.Credentials, ch psp.Charge) (psp.Result, error) {
	fp := fmt.Sprintf("%s|%d|%s|%t|%s", ch.PSPAlias, ch.Amount, ch.Currency, ch.Capture, ch.Reason)
	return a.do(ctx, OpCharge, ch.IdempotencyKey, fp, ch.PSPAlias, func() (psp.Result, error) {
		if ch.Amount <= 0 || !currency(ch.Currency) {
			return psp.Result{}, invalid(OpCharge, "amount must be positive and currency ISO 4217 upper case")
		}
		if !known(ch.PSPAlias) {
			return psp.Result{}, invalid(OpCharge, "no such payment method: "+ch.PSPAlias)
		}
		mode := "a"
		if !ch.Capture {
			mode = "m"
		}
		in := &intent{
			id:       fmt.Sprintf("sbx_pi_%s_%d_%s_%s", mode, ch.Amount, ch.Currency, digest(ch.IdempotencyKey)),
			token:    ch.PSPAlias,
			manual:   !ch.Capture,
			amount:   ch.Amount,
			currency: ch.Currency,
			metadata: copyMap(ch.Metadata),
		}
		a.intents[in.id] = in
		res := psp.Result{Status: psp.StatusSuccess, PSPTransactionID: in.id}
		switch ch.PSPAlias {
		case TokenChargeDeclined:
			in.state = declined
			res.Status, res.Message = psp.StatusFail, DeclineMessage
		case TokenPending, TokenPendingDeclined:
			in.state = processing
			in.settleTo = psp.StatusSuccess
			if ch.PSPAlias == TokenPendingDeclined {
				in.settleTo = psp.StatusFail
			}
			res.Status, res.Message = psp.StatusPending, PendingMessage
			a.scheduleSettle(in.id)
		default:
			in.settle()
		}
		return res, nil
	})
}

// settle moves a charge that succeeded to its settled state.
func (in *intent) settle() {
	if in.manual {
		in.state = requiresCapture
		return
	}
	in.state, in.captured = succeeded, in.amount
}

// Capture captures amount (1..the pre-authorized amount) of a
// pre-authorization.
func (a *Adapter) Capture(ctx context.Context, _ psp.Credentials, pspID, key string, amount int64) (psp.Result, error) {
	return a.do(ctx, OpCapture, key, fmt.Sprintf("%s|%d", pspID, amount), "", func() (psp.Result, error) {
		in, err := a.intent(OpCapture, pspID)
		if err != nil {
			return psp.Result{}, err
		}
		if in.state != requiresCapture {
			return psp.Result{}, invalid(OpCapture, "payment intent "+in.id+" is "+in.state.String()+": only a pre-authorization awaiting capture can be captured")
		}
		if amount <= 0 || amount > in.amount {
			return psp.Result{}, invalid(OpCapture, fmt.Sprintf("amount to capture %d is not within 1..%d", amount, in.amount))
		}
		if in.token == TokenCaptureDeclined {
			return psp.Result{Status: psp.StatusFail, PSPTransactionID: in.id, Message: CaptureDeclineMessage}, nil
		}
		in.state, in.captured = succeeded, amount
		return psp.Result{Status: psp.StatusSuccess, PSPTransactionID: in.id}, nil
	})
}

// Reverse cancels a pre-authorization that was not captured.
func (a *Adapter) Reverse(ctx context.Context, _ psp.Credentials, pspID, key, reason string) (psp.Result, error) {
	return a.do(ctx, OpReverse, key, pspID+"|"+reason, "", func() (psp.Result, error) {
		in, err := a.intent(OpReverse, pspID)
		if err != nil {
			return psp.Result{}, err
		}
		if in.state == succeeded || in.state == canceled {
			return psp.Result{}, invalid(OpReverse, "payment intent "+in.id+" is "+in.state.String()+": it cannot be canceled")
		}
		in.state = canceled
		return psp.Result{Status: psp.StatusSuccess, PSPTransactionID: in.id}, nil
	})
}

// Refund refunds amount of a captured charge; refunds never exceed what was
// captured.
func (a *Adapter) Refund(ctx context.Context, _ psp.Credentials, pspID, key string, amount int64, reason string) (psp.Result, error) {
	return a.do(ctx, OpRefund, key, fmt.Sprintf("%s|%d|%s", pspID, amount, reason), "", func() (psp.Result, error) {
		in, err := a.intent(OpRefund, pspID)
		if err != nil {
			return psp.Result{}, err
		}
		if in.state != succeeded {
			return psp.Result{}, invalid(OpRefund, "payment intent "+in.id+" is "+in.state.String()+": only a captured charge can be refunded")
		}
		if amount <= 0 || in.refunded+amount > in.captured {
			return psp.Result{}, invalid(OpRefund, fmt.Sprintf("refund of %d would exceed the captured %d (refunded so far %d)", amount, in.captured, in.refunded))
		}
		in.refunded += amount
		return psp.Result{Status: psp.StatusSuccess, PSPTransactionID: "sbx_re_" + digest(key)}, nil
	})
}

// DeleteAlias has nothing to detach: test tokens are not stored.
func (a *Adapter) DeleteAlias(context.Context, psp.Credentials, string) error { return nil }

// do runs one idempotent call: a recorded key answers its result, a fault
// or a token's first-call behaviour may intervene, exec runs under the
// lock (so concurrent duplicates execute once).
func (a *Adapter) do(ctx context.Context, op Op, key, fingerprint, token string, exec func() (psp.Result, error)) (psp.Result, error) {
	if key == "" {
		return psp.Result{}, invalid(op, "an idempotency key is required")
	}
	if err := ctx.Err(); err != nil {
		return psp.Result{}, &psp.Error{PSP: psp.Sandbox, Op: string(op), Retryable: true, Err: err}
	}
	fault := NoFault
	if a.opts.Fault != nil {
		fault = a.opts.Fault(op, key)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests[key]++
	if c, ok := a.calls[key]; ok {
		if c.op != op || c.fingerprint != fingerprint {
			return psp.Result{}, invalid(op, "keys for idempotent requests can only be used with the same parameters they were first used with")
		}
		return c.result, nil
	}
	firstTry := !a.failed[key]
	if fault == Unavailable || (token == TokenUnavailable && firstTry) {
		a.failed[key] = true
		return psp.Result{}, &psp.Error{PSP: psp.Sandbox, Op: string(op), Retryable: true, Err: errors.New("503 service unavailable (sandbox)")}
	}
	res, err := exec()
	if err != nil {
		return psp.Result{}, err // not recorded, as Stripe records no failed validation
	}
	a.calls[key] = &call{op: op, fingerprint: fingerprint, result: res}
	a.count(op)
	if fault == LoseAnswer || (token == TokenTimeout && firstTry) {
		a.failed[key] = true
		return psp.Result{}, &psp.Error{PSP: psp.Sandbox, Op: string(op), Retryable: true, Err: errors.New("timeout: the answer was lost after the charge (sandbox)")}
	}
	return res, nil
}

func (a *Adapter) count(op Op) {
	switch op {
	case OpCharge:
		a.counts.Charges++
	case OpCapture:
		a.counts.Captures++
	case OpReverse:
		a.counts.Reversals++
	case OpRefund:
		a.counts.Refunds++
	}
}

// intent finds a charge by id, or recognises one made by another process
// from the values its id encodes. Called with the lock held.
func (a *Adapter) intent(op Op, id string) (*intent, error) {
	if in, ok := a.intents[id]; ok {
		return in, nil
	}
	parts := strings.Split(id, "_")
	if len(parts) == 6 && parts[0] == "sbx" && parts[1] == "pi" && (parts[2] == "m" || parts[2] == "a") && currency(parts[4]) && len(parts[5]) == 24 {
		if amount, err := strconv.ParseInt(parts[3], 10, 64); err == nil && amount > 0 {
			in := &intent{id: id, token: TokenVisa, manual: parts[2] == "m", amount: amount, currency: parts[4]}
			in.settle()
			a.intents[id] = in
			return in, nil
		}
	}
	return nil, invalid(op, "no such payment intent: "+id)
}

// Settle settles a PENDING charge now (tok_pending: SUCCESS, then capturable
// or captured; tok_pendingDeclined: FAIL) and returns the notification that
// says so, for the payments domain's notification path.
func (a *Adapter) Settle(pspID string) (psp.Notification, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	in, ok := a.intents[pspID]
	if !ok || in.state != processing {
		return psp.Notification{}, fmt.Errorf("%w: %s", ErrNotPending, pspID)
	}
	a.events++
	n := psp.Notification{
		PSP:              psp.Sandbox,
		EventID:          fmt.Sprintf("sbx_evt_%s_%d", digest(pspID), a.events),
		PSPTransactionID: in.id,
		Status:           in.settleTo,
		Amount:           in.amount,
		Currency:         in.currency,
		Metadata:         copyMap(in.metadata),
		TestMode:         true,
		Created:          time.Now().UTC(),
	}
	if in.settleTo == psp.StatusFail {
		in.state = declined
		n.Kind, n.EventType, n.Message = psp.NotifyFailed, "payment_intent.payment_failed", DeclineMessage
	} else {
		in.settle()
		n.Kind, n.EventType = psp.NotifySucceeded, "payment_intent.succeeded"
	}
	return n, nil
}

// scheduleSettle settles id after SettleAfter and hands the notification to
// Notify, retrying while it fails. Called with the lock held.
func (a *Adapter) scheduleSettle(id string) {
	if a.opts.SettleAfter <= 0 || a.opts.Notify == nil {
		return
	}
	time.AfterFunc(a.opts.SettleAfter, func() {
		n, err := a.Settle(id)
		if err != nil {
			return // settled already (by Settle) or reversed
		}
		for attempt := 0; attempt < 5; attempt++ {
			if a.opts.Notify(context.Background(), n) == nil {
				return
			}
			time.Sleep(a.opts.SettleAfter)
		}
	})
}

func (s state) String() string {
	switch s {
	case requiresCapture:
		return "requires_capture"
	case processing:
		return "processing"
	case succeeded:
		return "succeeded"
	case canceled:
		return "canceled"
	default:
		return "requires_payment_method"
	}
}

func invalid(op Op, msg string) error {
	return &psp.Error{PSP: psp.Sandbox, Op: string(op), Err: errors.New(msg)}
}

func known(token string) bool {
	for _, t := range Tokens {
		if t == token {
			return true
		}
	}
	return false
}

func currency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
