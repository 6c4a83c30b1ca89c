// Package stripe is the STRIPE PSP adapter, through the official library
// (github.com/stripe/stripe-go/v82):
//
//	pre-authorize  PaymentIntent create, capture_method=manual, confirm=true
//	authorize      PaymentIntent create, capture_method=automatic, confirm=true
//	capture        PaymentIntent capture (amount_to_capture)
//	reverse        PaymentIntent cancel
//	refund         Refund create (payment_intent, amount)
//	delete alias   PaymentMethod detach
//
// The alias is a PaymentMethod id (pm_...) made by Stripe.js with the
// merchant's publishable key. Every call carries the Idempotency-Key it is
// given, so a retry after a lost answer gets the same object. Outcomes:
// succeeded, and requires_capture for a pre-authorization, are SUCCESS;
// processing and requires_action are PENDING (a webhook settles them); a
// card_error (402) is a FAIL result with Stripe's decline message; 409
// (idempotency key in use), 429, 5xx, timeouts and network errors are a
// retryable *psp.Error; other 4xx (an invalid request) a non-retryable one.
//
// Webhooks: ParseWebhook verifies and maps Stripe's notifications.
package stripe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	stripeapi "github.com/stripe/stripe-go/v82"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

// DefaultTimeout bounds one HTTP request to Stripe (a Lambda must answer
// well within API Gateway's 30 s).
const DefaultTimeout = 10 * time.Second

// Options configure the adapter.
type Options struct {
	// APIBase is Stripe's API base URL; empty is the real API
	// (https://api.stripe.com). Tests point it at stripe-mock or an
	// httptest server (setting STRIPE_API_BASE).
	APIBase string
	// Timeout bounds each HTTP request (DefaultTimeout when zero).
	Timeout time.Duration
	// NetworkRetries is how often the library retries a failed request
	// itself, with the same Idempotency-Key (0: never; the payments domain
	// retries with the same key).
	NetworkRetries int
	// HTTPClient replaces the default client (its Timeout is set to Timeout).
	HTTPClient *http.Client
}

// Adapter is the Stripe PSP. It holds no per-merchant state: each call uses
// the credentials it is given.
type Adapter struct {
	backends *stripeapi.Backends
}

var _ psp.Adapter = (*Adapter)(nil)

// New returns an adapter talking to o.APIBase.
func New(o Options) *Adapter {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	client := &http.Client{}
	if o.HTTPClient != nil {
		c := *o.HTTPClient
		client = &c
	}
	client.Timeout = o.Timeout
	cfg := &stripeapi.BackendConfig{
		HTTPClient:        client,
		MaxNetworkRetries: stripeapi.Int64(int64(max(o.NetworkRetries, 0))),
		// The library's logger would print request details to stderr;
		// errors are returned and logged by the caller, without secrets.
		LeveledLogger: &stripeapi.LeveledLogger{Level: stripeapi.LevelNull},
	}
	if o.APIBase != "" {
		cfg.URL = stripeapi.String(strings.TrimSuffix(o.APIBase, "/"))
	}
	return &Adapter{backends: stripeapi.NewBackendsWithConfig(cfg)}
}

// Type is STRIPE.
func (a *Adapter) Type() psp.Type { return psp.Stripe }

// ClientConfig gives the client SDK the merchant's publishable key, for
// Stripe.js to make the PaymentMethod.
func (a *Adapter) ClientConfig(c psp.Credentials) map[string]string {
	return map[string]string{"publishableKey": c.PublishableKey}
}

func (a *Adapter) client(op string, c psp.Credentials) (*stripeapi.Client, error) {
	if c.SecretKey == "" {
		return nil, &psp.Error{PSP: psp.Stripe, Op: op, Err: fmt.Errorf("%w: no Stripe secret key", psp.ErrNotConfigured)}
	}
	return stripeapi.NewClient(c.SecretKey, stripeapi.WithBackends(a.backends)), nil
}

// Charge creates and confirms a PaymentIntent on the alias: capture_method
// manual for a pre-authorization, automatic for an authorization.
func (a *Adapter) Charge(ctx context.Context, c psp.Credentials, ch psp.Charge) (psp.Result, error) {
	const op = "charge"
	sc, err := a.client(op, c)
	if err != nil {
		return psp.Result{}, err
	}
	if err := a.TakesCurrency(ch.Currency); err != nil {
		// Amounts are ISO 4217 minor units; never charge another amount.
		return psp.Result{}, &psp.Error{PSP: psp.Stripe, Op: op, Err: err}
	}
	method := stripeapi.PaymentIntentCaptureMethodManual
	if ch.Capture {
		method = stripeapi.PaymentIntentCaptureMethodAutomatic
	}
	params := &stripeapi.PaymentIntentCreateParams{
		Amount:        stripeapi.Int64(ch.Amount),
		Currency:      stripeapi.String(strings.ToLower(ch.Currency)),
		PaymentMethod: stripeapi.String(ch.PSPAlias),
		Confirm:       stripeapi.Bool(true),
		CaptureMethod: stripeapi.String(string(method)),
		// No return URL: payment methods that redirect are refused
		// rather than left waiting for a customer who is not there.
		AutomaticPaymentMethods: &stripeapi.PaymentIntentCreateAutomaticPaymentMethodsParams{
			Enabled:        stripeapi.Bool(true),
			AllowRedirects: stripeapi.String("never"),
		},
	}
	if ch.Reason != "" {
		params.Description = stripeapi.String(ch.Reason)
	}
	for k, v := range ch.Metadata {
		params.AddMetadata(k, v)
	}
	params.SetIdempotencyKey(ch.IdempotencyKey)
	pi, err := sc.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return mapError(op, err)
	}
	return chargeResult(pi, ch.Capture), nil
}

// Capture captures amount of a pre-authorization.
func (a *Adapter) Capture(ctx context.Context, c psp.Credentials, pspID, key string, amount int64) (psp.Result, error) {
	const op = "capture"
	sc, err := a.client(op, c)
	if err != nil {
		return psp.Result{}, err
	}
	params := &stripeapi.PaymentIntentCaptureParams{AmountToCapture: stripeapi.Int64(amount)}
	params.SetIdempotencyKey(key)
	pi, err := sc.V1PaymentIntents.Capture(ctx, pspID, params)
	if err != nil {
		return mapError(op, err)
	}
	switch pi.Status {
	case stripeapi.PaymentIntentStatusSucceeded:
		return psp.Result{Status: psp.StatusSuccess, PSPTransactionID: pi.ID}, nil
	case stripeapi.PaymentIntentStatusProcessing:
		return psp.Result{Status: psp.StatusPending, PSPTransactionID: pi.ID, Message: "processing"}, nil
	}
	return psp.Result{Status: psp.StatusFail, PSPTransactionID: pi.ID, Message: failure(pi)}, nil
}

// Reverse cancels a PaymentIntent that was not captured. Stripe's
// cancellation_reason is an enum, so the merchant's reason stays
// Tollgate's record.
func (a *Adapter) Reverse(ctx context.Context, c psp.Credentials, pspID, key, _ string) (psp.Result, error) {
	const op = "reverse"
	sc, err := a.client(op, c)
	if err != nil {
		return psp.Result{}, err
	}
	params := &stripeapi.PaymentIntentCancelParams{}
	params.SetIdempotencyKey(key)
	pi, err := sc.V1PaymentIntents.Cancel(ctx, pspID, params)
	if err != nil {
		return mapError(op, err)
	}
	if pi.Status == stripeapi.PaymentIntentStatusCanceled {
		return psp.Result{Status: psp.StatusSuccess, PSPTransactionID: pi.ID}, nil
	}
	return psp.Result{Status: psp.StatusFail, PSPTransactionID: pi.ID, Message: "payment intent is " + string(pi.Status)}, nil
}

// Refund refunds amount of a captured PaymentIntent; the result names the
// Refund (re_...). The merchant's reason goes into the Refund's metadata
// (Stripe's reason is an enum).
func (a *Adapter) Refund(ctx context.Context, c psp.Credentials, pspID, key string, amount int64, reason string) (psp.Result, error) {
	const op = "refund"
	sc, err := a.client(op, c)
	if err != nil {
		return psp.Result{}, err
	}
	params := &stripeapi.RefundCreateParams{PaymentIntent: stripeapi.String(pspID), Amount: stripeapi.Int64(amount)}
	if reason != "" {
		params.AddMetadata("reason", reason)
	}
	params.SetIdempotencyKey(key)
	re, err := sc.V1Refunds.Create(ctx, params)
	if err != nil {
		return mapError(op, err)
	}
	switch re.Status {
	case stripeapi.RefundStatusSucceeded:
		return psp.Result{Status: psp.StatusSuccess, PSPTransactionID: re.ID}, nil
	case stripeapi.RefundStatusPending, stripeapi.RefundStatusRequiresAction:
		return psp.Result{Status: psp.StatusPending, PSPTransactionID: re.ID, Message: string(re.Status)}, nil
	}
	msg := string(re.Status)
	if re.FailureReason != "" {
		msg += ": " + string(re.FailureReason)
	}
	return psp.Result{Status: psp.StatusFail, PSPTransactionID: re.ID, Message: msg}, nil
}

// DeleteAlias detaches the PaymentMethod from its customer. Its
// Idempotency-Key derives from the alias (the interface gives none), so a
// retried deletion is the same request. A PaymentMethod that is gone or
// attached to no customer has nothing to detach: that is success.
func (a *Adapter) DeleteAlias(ctx context.Context, c psp.Credentials, pspAlias string) error {
	const op = "delete alias"
	sc, err := a.client(op, c)
	if err != nil {
		return err
	}
	params := &stripeapi.PaymentMethodDetachParams{}
	params.SetIdempotencyKey(DetachKey(pspAlias))
	_, err = sc.V1PaymentMethods.Detach(ctx, pspAlias, params)
	var se *stripeapi.Error
	if errors.As(err, &se) && (se.Code == stripeapi.ErrorCodeResourceMissing || strings.Contains(se.Msg, "not attached")) {
		return nil
	}
	if err != nil {
		_, err = mapError(op, err)
	}
	return err
}

// DetachKey is the Idempotency-Key of the detach of pspAlias.
func DetachKey(pspAlias string) string {
	sum := sha256.Sum256([]byte("tollgate detach " + pspAlias))
	return "detach-" + hex.EncodeToString(sum[:16])
}

// chargeResult maps a created PaymentIntent's status.
func chargeResult(pi *stripeapi.PaymentIntent, capture bool) psp.Result {
	r := psp.Result{PSPTransactionID: pi.ID}
	switch pi.Status {
	case stripeapi.PaymentIntentStatusSucceeded:
		r.Status = psp.StatusSuccess
	case stripeapi.PaymentIntentStatusRequiresCapture:
		r.Status = psp.StatusSuccess
		if capture { // authorized but not captured: not what was asked
			r.Status, r.Message = psp.StatusPending, string(pi.Status)
		}
	case stripeapi.PaymentIntentStatusProcessing, stripeapi.PaymentIntentStatusRequiresAction, stripeapi.PaymentIntentStatusRequiresConfirmation:
		r.Status, r.Message = psp.StatusPending, string(pi.Status)
		if pi.Status == stripeapi.PaymentIntentStatusRequiresAction {
			r.Message = "requires_action: the customer must complete authentication"
		}
	default: // requires_payment_method after a confirmation: declined; canceled
		r.Status, r.Message = psp.StatusFail, failure(pi)
	}
	return r
}

func failure(pi *stripeapi.PaymentIntent) string {
	if e := pi.LastPaymentError; e != nil && e.Msg != "" {
		return declineMessage(e)
	}
	return "payment intent is " + string(pi.Status)
}

func declineMessage(e *stripeapi.Error) string {
	msg := e.Msg
	if e.DeclineCode != "" {
		msg += " (" + string(e.DeclineCode) + ")"
	} else if e.Code != "" {
		msg += " (" + string(e.Code) + ")"
	}
	return msg
}

// mapError turns a failed call into a FAIL result (a card decline) or a
// *psp.Error, retryable when the outcome is unknown or the request may
// succeed later with the same key.
func mapError(op string, err error) (psp.Result, error) {
	var se *stripeapi.Error
	if !errors.As(err, &se) { // network, timeout, canceled context: unknown outcome
		return psp.Result{}, &psp.Error{PSP: psp.Stripe, Op: op, Retryable: true, Err: err}
	}
	if se.Type == stripeapi.ErrorTypeCard || se.HTTPStatusCode == http.StatusPaymentRequired {
		r := psp.Result{Status: psp.StatusFail, Message: declineMessage(se)}
		if se.PaymentIntent != nil {
			r.PSPTransactionID = se.PaymentIntent.ID
		}
		return r, nil
	}
	retryable := se.HTTPStatusCode == http.StatusConflict || se.HTTPStatusCode == http.StatusTooManyRequests ||
		se.HTTPStatusCode >= 500 || se.HTTPStatusCode == 0 ||
		se.Code == stripeapi.ErrorCodeLockTimeout || se.Code == stripeapi.ErrorCodeIdempotencyKeyInUse ||
		se.Type == stripeapi.ErrorTypeAPI
	return psp.Result{}, &psp.Error{PSP: psp.Stripe, Op: op, Retryable: retryable,
		Err: fmt.Errorf("stripe %d %s %s: %s (request %s)", se.HTTPStatusCode, se.Type, se.Code, se.Msg, se.RequestID)}
}
