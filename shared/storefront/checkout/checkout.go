// Package checkout owns the CheckoutTable and the rules of the stores'
// hosted checkout: sessions made through the API, quotes of carts (lines,
// tax, total), payment through the PSP layer (the platform's Stripe
// account, or the stateless sandbox when no Stripe key is configured), and
// the PSP notifications that fulfil, refund or dispute an order. Orders
// live in the StoresTable: this package composes the ops shared/storefront/stores
// exports, in the same transaction as its own record of what caused them.
//
// Item layout (pk, sk; every key a dynamo.Tuple):
//
//	("session", id), "session"           store, cart, currency, locale, reference, return URLs, expiresAt (TTL)
//	("payment", store, orderId), "payment" the payment's intent (psp, idempotency key) before the PSP call,
//	                                       its result (pspId, clientSecret) after; locale, return URL, source
//	("pi", psp, pspId), "pi"               store, order: finds the order of a refund or a dispute
//	("event", psp, eventId), "event"       kind, outcome: each PSP event is applied once, recorded in the
//	                                       transaction of its effect
package checkout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/sandbox"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/stripe"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Settings (environment).
const (
	// EnvPublicBaseURL is where the checkout pages are served (checkout_url's
	// origin); unset: the origin each request came to (httpx.RequestOrigin).
	EnvPublicBaseURL = "PUBLIC_BASE_URL"
	EnvRateLimit     = "CHECKOUT_RATE_LIMIT"  // sessions per window (ratelimit.EnvWindow) per API key (default 100)
	EnvStripeAPIBase = "STRIPE_API_BASE"      // stripe-mock in tests; "" the real API
	EnvStripeTimeout = "CHECKOUT_PSP_TIMEOUT" // one PSP call (default 10s)
	// EnvSandbox allows the sandbox PSP when no Stripe key is set (default
	// true: make run, tests). The template sets it false in prod, where a
	// missing key must stop payments, not make test cards pay for goods.
	EnvSandbox = "CHECKOUT_SANDBOX"
)

// Reasons of refusals (refusal.Error). Those the store API shares are the
// stores package's own, so the API maps them in its one place.
var (
	ErrNoStore        = stores.ErrNoStore
	ErrNoOrder        = stores.ErrNoOrder
	ErrUnauthorized   = stores.ErrUnauthorized
	ErrUnknownSKU     = stores.ErrUnknownSKU
	ErrRateLimited    = stores.ErrRateLimited
	ErrNoSession      = errors.New("checkout: no such session")
	ErrSessionExpired = errors.New("checkout: session expired")
	ErrInvalid        = errors.New("checkout: invalid cart or buyer")
	// ErrNeedsSubdivision: the buyer's country taxes by state or province
	// and none was given (an ErrInvalid: the form asks for it).
	ErrNeedsSubdivision = fmt.Errorf("%w (the billing subdivision is required)", ErrInvalid)
	ErrDeclined         = errors.New("checkout: payment declined")
	// ErrReferencePaid: a session for an external reference already paid.
	ErrReferencePaid = fmt.Errorf("%w (already paid)", stores.ErrReferenceConflict)
	// ErrSessionPaid: a session already paid by an order is not paid again
	// by another (a buyer who came back with other details).
	ErrSessionPaid = errors.New("checkout: this checkout is already paid")
	// ErrBadNotification: a PSP notification that cannot be verified (bad
	// or stale signature, unreadable payload): nothing is recorded.
	ErrBadNotification = errors.New("checkout: not a verified PSP notification")
	// ErrNotConfigured: Stripe payments are taken but their webhook secret
	// is missing (the receiver answers 503 so Stripe retries).
	ErrNotConfigured = errors.New("checkout: the Stripe webhook secret is not configured")
	// ErrNoPSP: no PSP may take payments (no Stripe key where the sandbox
	// is off): an operator's error, answered 503, never a free order.
	ErrNoPSP = errors.New("checkout: no payment provider is configured")
)

// Metadata of the PSP's payment object: routes its notifications back.
const (
	MetaStore = "tollgate_store"
	MetaOrder = "tollgate_order"
	// MetaSession names the session a payment pays (session carts only):
	// its success marks the session paid.
	MetaSession = "tollgate_session"
)

// Limits. MaxLines and MaxQuantity are the cart's limits wherever a cart
// is made (a session's cart, the pages' cookie cart and add links) and
// quoted: the one home of the rule.
const (
	MaxQuantity    = 100 // the most units of one SKU a cart line holds
	MaxLines       = 50  // the most different SKUs a cart holds (a cookie is at most 4 KB)
	MinSessionTTL  = 30 * time.Minute
	MaxSessionTTL  = 24 * time.Hour
	purposeSession = "checkout-session-token"
)

// ValidQuantity reports whether q units of one SKU may stand in a cart
// line: 1 to MaxQuantity.
func ValidQuantity(q int64) bool { return q >= 1 && q <= MaxQuantity }

// Service is the checkout.
type Service struct {
	st     dynamo.Store
	keys   secrets.Source
	signer signing.Signer
	now    func() time.Time
	base   string // PUBLIC_BASE_URL, no trailing slash; "": the request's origin
	rate   ratelimit.Policy
	ful    *stores.Fulfiller
	// psps are the PSPs a checkout pays and refunds with (Stripe and the
	// checkout sandbox), chosen by psp.Select.
	psps map[psp.Type]intentPSP
	// sandboxOK: the sandbox PSP may take payments (never in prod): the
	// test mode psp.Select is asked in, which refuses the sandbox without it.
	sandboxOK bool
	// log takes what goes wrong beside a request's answer (a low pool not
	// announced).
	log *slog.Logger
}

// intentPSP is a PSP the checkout pays with: it creates client-confirmed
// intents and refunds a duplicate payment.
type intentPSP interface {
	Type() psp.Type
	psp.IntentCreator
	psp.CurrencyTaker
	refunder
}

// Open builds the checkout from d: its settings and the platform's Stripe
// keys (none: the sandbox PSP).
func Open(_ context.Context, d deps.Deps) (*Service, error) {
	if d.Store.Tables.Checkout == "" || d.Store.Tables.Stores == "" {
		return nil, fmt.Errorf("checkout: %s and %s must be set", dynamo.EnvCheckoutTable, dynamo.EnvStoresTable)
	}
	base := strings.TrimSuffix(d.String(EnvPublicBaseURL, ""), "/")
	if u, err := url.Parse(base); base != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return nil, fmt.Errorf("checkout: %s must be empty or an absolute http(s) URL, got %q", EnvPublicBaseURL, base)
	}
	rate, err := ratelimit.Configured(d, "checkout-session", EnvRateLimit, 100)
	if err != nil {
		return nil, err
	}
	timeout, err := d.Duration(EnvStripeTimeout, stripe.DefaultTimeout)
	if err != nil {
		return nil, err
	}
	sandboxOK, err := d.Bool(EnvSandbox, true)
	if err != nil {
		return nil, err
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	return &Service{st: d.Store, keys: d.Secrets, signer: signing.New(d.Secrets), now: now, base: base, sandboxOK: sandboxOK, log: d.Logger,
		rate: rate,
		ful:  stores.NewFulfiller(d.Store, now, stores.Options{Logger: d.Logger}),
		psps: map[psp.Type]intentPSP{
			psp.Stripe:  stripe.New(stripe.Options{APIBase: d.String(EnvStripeAPIBase, ""), Timeout: timeout}),
			psp.Sandbox: sandbox.Intents{},
		}}, nil
}

// secret reads one of the platform's Stripe keys (current first; during a
// rotation the previous too). None configured: nil.
func (s *Service) secret(ctx context.Context, n secrets.Name) ([]string, error) {
	if s.keys == nil {
		return nil, nil
	}
	return s.keys.Values(ctx, n)
}

// pspFor says which PSP takes payments now: Stripe when the platform's
// secret key is configured, else the sandbox (psp.Select refuses it when
// the sandbox is off).
func (s *Service) pspFor(ctx context.Context) (intentPSP, psp.Credentials, error) {
	sk, err := s.secret(ctx, secrets.StripeSecretKey)
	if err != nil {
		return nil, psp.Credentials{}, err
	}
	if len(sk) == 0 {
		a, err := psp.Select(s.psps, psp.Sandbox, s.sandboxOK)
		if err != nil {
			return nil, psp.Credentials{}, fmt.Errorf("%w: no stripeSecretKey, and the sandbox is off (%s=false)", ErrNoPSP, EnvSandbox)
		}
		return a, psp.Credentials{}, nil
	}
	pk, err := s.secret(ctx, secrets.StripePublishableKey)
	if err != nil {
		return nil, psp.Credentials{}, err
	}
	c := psp.Credentials{SecretKey: sk[0]}
	if len(pk) > 0 {
		c.PublishableKey = pk[0]
	}
	a, err := psp.Select(s.psps, psp.Stripe, s.sandboxOK)
	return a, c, err
}

func sessionKey(id string) dynamo.Key { return dynamo.PKSK(dynamo.Tuple("session", id), "session") }
func paymentKey(slug, orderID string) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("payment", slug, orderID), "payment")
}
func piKey(p psp.Type, id string) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("pi", string(p), id), "pi")
}
func eventKey(p psp.Type, id string) dynamo.Key {
	return dynamo.PKSK(dynamo.Tuple("event", string(p), id), "event")
}
