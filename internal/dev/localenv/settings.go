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
	Doc     string // the page documenting it, relative to the root (docs/local.md)
}

// Settings is the one list of function settings with documented defaults.
// A function reading a variable that neither its template environment sets
// nor this list (nor DevVariables) names fails the end-to-end tests
// (Stack.UndocumentedReads).
var Settings = []Setting{
	{"CATALOG_CACHE_TTL", "30s", "docs/local.md"},
	{"CATALOG_DEFAULT_CURRENCY", "USD", "docs/local.md"},
	{"CATALOG_SECTION_TITLE", "Shop", "docs/local.md"},
	{"LOOKUP_TIMEOUT", "1s", "docs/local.md"},
	{"GRANT_MODE", "both", "docs/local.md"},
	{"WEBHOOK_ENVIRONMENT", "test", "docs/local.md"},
	{"WEBHOOK_RECORD_TTL", "720h", "docs/local.md"},
	{"SWEEP_BATCH", "200", "docs/local.md"},
	{"STASH_API_KEY_HEADER", "x-api-key", "docs/local.md"},
	{"RATE_LIMIT_WINDOW", "1m", "docs/store-platform.md"},
	{"KEY_CACHE_TTL", "5s", "docs/payments.md"},
	{"STRIPE_API_BASE", "https://api.stripe.com", "docs/payments.md"},
	{"STRIPE_TIMEOUT", "10s", "docs/payments.md"},
	{"STORE_CACHE_TTL", "5s", "docs/store-platform.md"},
	{"CHECKOUT_RATE_LIMIT", "100", "docs/checkout.md"},
	{"CHECKOUT_PSP_TIMEOUT", "10s", "docs/checkout.md"},
	{"CHECKOUT_SANDBOX", "true", "docs/checkout.md"},
	{"PUBLIC_BASE_URL", "the request's host", "docs/checkout.md"},
	{"MAIL_DIR", "unset: emails go through SES (make run sets it)", "docs/email.md"},
}

// DevVariables are the development keys a local run reads from the
// environment (docs/local.md, docs/payments.md): the keys'
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
