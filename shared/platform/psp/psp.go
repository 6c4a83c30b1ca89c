// Package psp is the one interface Tollgate's payments API uses to move
// money through a payment service provider (PSP), and the registry of
// adapters by PSP-Type. An adapter is stateless apart from its HTTP client:
// the payments domain records an intent (with the PSP idempotency key)
// before every call and the result after it, and calls again with the same
// key after a crash, which the PSP answers with the same result.
//
// A decline is a Result with StatusFail, not an error; an error means the
// outcome is unknown or the call did not happen (timeout, 5xx, network),
// and the same call with the same idempotency key may be retried.
package psp

import (
	"context"
	"errors"
)

// Type names a PSP as the PSP-Type header does.
type Type string

// The PSP-Types the API knows. Only those with an adapter (Registry) can be
// used; the others answer "no configuration for this PSP".
const (
	Stripe    Type = "STRIPE"
	Sandbox   Type = "SANDBOX"
	BSPayone  Type = "BS_PAYONE"
	Braintree Type = "BRAINTREE"
	Adyen     Type = "ADYEN"
)

// Status is the outcome of a PSP call.
type Status string

// Statuses of a PSP call, as the payments API answers them.
const (
	StatusSuccess Status = "SUCCESS"
	StatusFail    Status = "FAIL"
	StatusPending Status = "PENDING"
)

// Credentials are one merchant's credentials for one PSP in one mode (test
// or live). They come from Secrets Manager (locally from the environment),
// never from DynamoDB, and are never logged.
type Credentials struct {
	SecretKey      string // Stripe: sk_test_/sk_live_ (or a restricted key)
	PublishableKey string // Stripe: pk_test_/pk_live_, given to the client SDK
	WebhookSecret  string // Stripe: whsec_..., verifies notifications
}

// Charge is a pre-authorization (Capture false) or an authorization
// (Capture true) of Amount minor units of Currency on a tokenised payment
// method (the alias's PSP alias).
type Charge struct {
	IdempotencyKey string // the PSP idempotency key recorded with the intent
	PSPAlias       string // Stripe: a PaymentMethod id (pm_...); sandbox: a test token
	Amount         int64  // minor units, > 0
	Currency       string // ISO 4217, upper case
	Reason         string // shown to the customer where the PSP supports it
	Capture        bool
	// Metadata is attached to the PSP's object (Stripe: metadata), e.g. the
	// Tollgate transaction id and merchant, so notifications can be routed.
	Metadata map[string]string
}

// Result is what the PSP decided.
type Result struct {
	Status Status
	// PSPTransactionID names the PSP's object (Stripe: the PaymentIntent id
	// for charges, capture and reverse; the Refund id for refunds).
	PSPTransactionID string
	// Message explains a decline or a pending state (additionalInfo).
	Message string
}

// Adapter is one PSP. Every method that moves money takes the idempotency
// key recorded before the call.
type Adapter interface {
	Type() Type
	// ClientConfig is what the client SDK needs to tokenise a payment
	// method with this PSP (Stripe: the publishable key), answered when an
	// alias is created.
	ClientConfig(c Credentials) map[string]string
	Charge(ctx context.Context, c Credentials, ch Charge) (Result, error)
	// Capture captures amount of a pre-authorization (its PSPTransactionID).
	Capture(ctx context.Context, c Credentials, pspID, idempotencyKey string, amount int64) (Result, error)
	// Reverse cancels a pre-authorization that was not captured.
	Reverse(ctx context.Context, c Credentials, pspID, idempotencyKey, reason string) (Result, error)
	// Refund refunds amount of a captured charge.
	Refund(ctx context.Context, c Credentials, pspID, idempotencyKey string, amount int64, reason string) (Result, error)
	// DeleteAlias detaches a tokenised payment method, where the PSP has
	// such a thing (a no-op otherwise).
	DeleteAlias(ctx context.Context, c Credentials, pspAlias string) error
}

// ErrNotConfigured is returned for a PSP-Type without an adapter or without
// credentials for the merchant and mode.
var ErrNotConfigured = errors.New("psp: no configuration for this PSP")

// Error is a PSP call whose outcome is unknown or that failed before the
// PSP decided (timeout, 5xx, network, invalid request).
type Error struct {
	PSP       Type
	Op        string
	Retryable bool // the same call with the same key may succeed
	Err       error
}

func (e *Error) Error() string {
	return "psp " + string(e.PSP) + " " + e.Op + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }
