// Package secrets gives handlers the keys they check requests against. In AWS
// the keys live in one Secrets Manager secret (a JSON object, one field per
// key) read through an in-memory cache; locally they come from environment
// variables. Values are never logged.
package secrets

import (
	"context"
	"os"
	"sync"
)

// Name names one key inside the secret.
type Name string

// The keys Tollgate holds. The string is the field name in the Secrets Manager
// secret's JSON; EnvVar gives the variable used locally.
const (
	StashAPIKey        Name = "stashApiKey"        // x-api-key of the purchase authorization call
	StashEgressKey     Name = "stashEgressKey"     // HMAC key of Stash's signed calls
	StashWebhookSecret Name = "stashWebhookSecret" //nolint:gosec // G101: the secret's key in the JSON, not a secret. HMAC key of Stash's webhooks
	GameServerKey      Name = "gameServerKey"      // Bearer token of the game server's endpoints
	CheckoutSigningKey Name = "checkoutSigningKey" // HMAC key of checkout tokens, cart cookies, CSRF tokens and order links
	// The platform's Stripe account, which takes the stores' checkout
	// payments. Unset: the checkout pays through the sandbox PSP.
	StripeSecretKey      Name = "stripeSecretKey"
	StripePublishableKey Name = "stripePublishableKey"
	StripeWebhookSecret  Name = "stripeWebhookSecret"
)

// Names lists every key, in the order docs/local.md documents them.
var Names = []Name{StashAPIKey, StashEgressKey, StashWebhookSecret, GameServerKey, CheckoutSigningKey,
	StripeSecretKey, StripePublishableKey, StripeWebhookSecret}

// EnvVar is the environment variable that holds the key in local runs.
func (n Name) EnvVar() string {
	switch n {
	case StashAPIKey:
		return "STASH_API_KEY"
	case StashEgressKey:
		return "STASH_EGRESS_KEY"
	case StashWebhookSecret:
		return "STASH_WEBHOOK_SECRET"
	case GameServerKey:
		return "GAME_SERVER_KEY"
	case CheckoutSigningKey:
		return "CHECKOUT_SIGNING_KEY"
	case StripeSecretKey:
		return "CHECKOUT_STRIPE_SECRET_KEY"
	case StripePublishableKey:
		return "CHECKOUT_STRIPE_PUBLISHABLE_KEY"
	case StripeWebhookSecret:
		return "CHECKOUT_STRIPE_WEBHOOK_SECRET"
	}
	return ""
}

// Source yields the accepted values of a key: the current value first, then,
// during a rotation, the previous one. Empty values are never returned; a key
// that is not configured yields no values, so every check against it fails.
type Source interface {
	Values(ctx context.Context, name Name) ([]string, error)
}

// Refresher is implemented by sources that cache. Refresh re-reads the
// secret unless it was read very recently, and reports whether it did; a
// caller that saw a key it did not recognise calls it once, so a rotation is
// picked up before the cache would expire.
type Refresher interface {
	Refresh(ctx context.Context) (bool, error)
}

// Static is a Source holding fixed values, for local runs and tests.
type Static map[Name]string

// Values implements Source.
func (s Static) Values(_ context.Context, name Name) ([]string, error) {
	if v := s[name]; v != "" {
		return []string{v}, nil
	}
	return nil, nil
}

// FromEnv reads every key from its environment variable through getenv (nil
// means os.Getenv); unset keys stay unconfigured.
func FromEnv(getenv func(string) string) Static {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := Static{}
	for _, n := range Names {
		if v := getenv(n.EnvVar()); v != "" {
			s[n] = v
		}
	}
	return s
}

// Local is a Source whose values may be written while it serves, for
// local runs: the secrets a function makes at run time (a store's rotated
// webhook secret), which a deployed function writes to Secrets Manager.
// Names it does not hold are read from Fallback. Safe for concurrent use.
type Local struct {
	Fallback Source

	mu sync.Mutex
	m  map[Name]string
}

// Values implements Source.
func (l *Local) Values(ctx context.Context, name Name) ([]string, error) {
	l.mu.Lock()
	v, ok := l.m[name]
	l.mu.Unlock()
	if ok {
		return []string{v}, nil
	}
	if l.Fallback == nil {
		return nil, nil
	}
	return l.Fallback.Values(ctx, name)
}

// PutNew sets name to value unless Local holds name already, and returns
// the value name holds: a name is written once.
func (l *Local) PutNew(name Name, value string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.m[name]; ok {
		return v
	}
	if l.m == nil {
		l.m = map[Name]string{}
	}
	l.m[name] = value
	return value
}
