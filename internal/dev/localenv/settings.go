package localenv

import (
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// Setting is a function setting a deployed function may run without: the
// template need not set it, because its default is documented.
type Setting struct {
	Name    string
	Default string // the value a function uses when the variable is unset
	Doc     string // the README section documenting it (the start of its "## " title)
}

// Settings is the one list of function settings with documented defaults.
// A function reading a variable that neither its template environment sets
// nor this list (nor DevVariables) names fails the end-to-end tests
// (Stack.UndocumentedReads).
var Settings = []Setting{
	{"CATALOG_CACHE_TTL", "30s", "Local keys and ports"},
	{"CATALOG_DEFAULT_CURRENCY", "USD", "Local keys and ports"},
	{"CATALOG_SECTION_TITLE", "Shop", "Local keys and ports"},
	{"LOOKUP_TIMEOUT", "1s", "Local keys and ports"},
	{"GRANT_MODE", "both", "Local keys and ports"},
	{"WEBHOOK_ENVIRONMENT", "test", "Local keys and ports"},
	{"WEBHOOK_RECORD_TTL", "720h", "Local keys and ports"},
	{"SWEEP_BATCH", "200", "Local keys and ports"},
	{"STASH_API_KEY_HEADER", "x-api-key", "Local keys and ports"},
	{"RATE_LIMIT_WINDOW", "1m", "Store platform API"},
	{"KEY_CACHE_TTL", "5s", "Payments API"},
	{"STRIPE_API_BASE", "https://api.stripe.com", "Payments API"},
	{"STRIPE_TIMEOUT", "10s", "Payments API"},
	{"STORE_CACHE_TTL", "5s", "Store platform API"},
	{"CHECKOUT_RATE_LIMIT", "100", "Checkout"},
	{"CHECKOUT_PSP_TIMEOUT", "10s", "Checkout"},
	{"CHECKOUT_SANDBOX", "true", "Checkout"},
	{"PUBLIC_BASE_URL", "the request's host", "Checkout"},
}

// DevVariables are the development keys a local run reads from the
// environment (README "Local keys and ports", "Payments API"): the keys'
// variables and the payments API's local Stripe credentials. In AWS they
// are empty; the keys come from Secrets Manager.
var DevVariables = func() []string {
	v := []string{
		payments.EnvStripeTestSecretKey, payments.EnvStripeTestPublishableKey,
		payments.EnvStripeLiveSecretKey, payments.EnvStripeLivePublishableKey,
		payments.EnvStripeWebhookSecret, payments.EnvWebhookSigningSecret,
	}
	for _, n := range secrets.Names {
		v = append(v, n.EnvVar())
	}
	return v
}()

var documentedNames = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range Settings {
		m[s.Name] = true
	}
	for _, v := range DevVariables {
		m[v] = true
	}
	return m
}()

// documented reports whether k is a documented setting or a development key.
func documented(k string) bool { return documentedNames[k] }
