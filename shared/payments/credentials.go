package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// Settings naming where merchants' PSP credentials live.
const (
	// EnvMerchantSecretPrefix: in AWS, merchant m's credentials are the
	// Secrets Manager secret <prefix><m>, a JSON object
	// {"STRIPE": {"test": {"secretKey", "publishableKey", "webhookSecret"}, "live": {...}}}.
	EnvMerchantSecretPrefix = "MERCHANT_SECRET_PREFIX"
	// Locally (no prefix) every merchant uses these, when set.
	EnvStripeTestSecretKey      = "PAYMENTS_STRIPE_TEST_SECRET_KEY"
	EnvStripeTestPublishableKey = "PAYMENTS_STRIPE_TEST_PUBLISHABLE_KEY"
	EnvStripeLiveSecretKey      = "PAYMENTS_STRIPE_LIVE_SECRET_KEY"
	EnvStripeLivePublishableKey = "PAYMENTS_STRIPE_LIVE_PUBLISHABLE_KEY"
	EnvStripeWebhookSecret      = "PAYMENTS_STRIPE_WEBHOOK_SECRET"
	// EnvWebhookSigningSecret: locally, the secret every merchant's
	// notifications are signed with (in AWS: the merchant secret's
	// "webhookSigningSecret").
	EnvWebhookSigningSecret = "PAYMENTS_WEBHOOK_SECRET"
	// credentialsTTL is how long a merchant's credentials are cached: a
	// rotated key is used within it.
	credentialsTTL = 5 * time.Minute
)

// CredentialsFromEnv returns the credential source of a function: Secrets
// Manager when MERCHANT_SECRET_PREFIX is set, else the environment. The
// SANDBOX needs no credentials.
func CredentialsFromEnv(ctx context.Context, d deps.Deps) (CredentialSource, error) {
	prefix := d.String(EnvMerchantSecretPrefix, "")
	if prefix == "" {
		return envCredentials{d: d}, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("payments: AWS config: %w", err)
	}
	return SecretsManagerCredentials(secretsmanager.NewFromConfig(cfg), prefix, d.Now), nil
}

// SecretsManagerCredentials reads merchant m's credentials from the secret
// <prefix><m> through client, caching each merchant's for five minutes.
func SecretsManagerCredentials(client secrets.SecretsManagerAPI, prefix string, now func() time.Time) CredentialSource {
	return &secretCredentials{client: client, prefix: prefix, now: now, cache: map[string]cachedCredentials{}}
}

// envCredentials stand in locally for the merchants' secrets: a read is
// checked as the deployed read of the merchant's secret would be
// (deps.Deps.CheckSecretRead).
type envCredentials struct{ d deps.Deps }

func (e envCredentials) Credentials(ctx context.Context, merchant string, t psp.Type, test bool) (psp.Credentials, error) {
	if t == psp.Sandbox {
		return psp.Credentials{}, nil
	}
	if err := e.d.SecretRead(ctx, EnvMerchantSecretPrefix, merchant); err != nil {
		return psp.Credentials{}, fmt.Errorf("payments: credentials of merchant %s: %w", merchant, err)
	}
	switch t {
	case psp.Stripe:
		sk, pk := EnvStripeLiveSecretKey, EnvStripeLivePublishableKey
		if test {
			sk, pk = EnvStripeTestSecretKey, EnvStripeTestPublishableKey
		}
		c := psp.Credentials{SecretKey: e.d.Getenv(sk), PublishableKey: e.d.Getenv(pk), WebhookSecret: e.d.Getenv(EnvStripeWebhookSecret)}
		if c.SecretKey != "" {
			return c, nil
		}
	}
	return psp.Credentials{}, psp.ErrNotConfigured
}

type secretCredentials struct {
	client secrets.SecretsManagerAPI
	prefix string
	now    func() time.Time
	mu     sync.Mutex
	cache  map[string]cachedCredentials
}

type cachedCredentials struct {
	sets    map[string]map[string]psp.Credentials // PSP type -> "test"/"live" -> credentials
	signing string                                // the merchant's webhookSigningSecret
	until   time.Time
}

type wireCredentials struct {
	SecretKey      string `json:"secretKey"`
	PublishableKey string `json:"publishableKey"`
	WebhookSecret  string `json:"webhookSecret"`
}

func (s *secretCredentials) Credentials(ctx context.Context, merchant string, t psp.Type, test bool) (psp.Credentials, error) {
	if t == psp.Sandbox {
		return psp.Credentials{}, nil
	}
	mode := "live"
	if test {
		mode = "test"
	}
	c, err := s.load(ctx, merchant)
	if err != nil {
		return psp.Credentials{}, err
	}
	cr, ok := c.sets[string(t)][mode]
	if !ok || cr.SecretKey == "" {
		return psp.Credentials{}, psp.ErrNotConfigured
	}
	return cr, nil
}

// load returns merchant's cached credentials, read again after the TTL.
func (s *secretCredentials) load(ctx context.Context, merchant string) (cachedCredentials, error) {
	s.mu.Lock()
	c, ok := s.cache[merchant]
	s.mu.Unlock()
	if ok && s.now().Before(c.until) {
		return c, nil
	}
	c, err := s.read(ctx, merchant)
	if err != nil {
		return cachedCredentials{}, err
	}
	c.until = s.now().Add(credentialsTTL)
	s.mu.Lock()
	s.cache[merchant] = c
	s.mu.Unlock()
	return c, nil
}

// webhookSigningKey is the key of the merchant secret's string that signs
// its notifications; every other key is a PSP type.
const webhookSigningKey = "webhookSigningSecret"

func (s *secretCredentials) read(ctx context.Context, merchant string) (cachedCredentials, error) {
	c := cachedCredentials{sets: map[string]map[string]psp.Credentials{}}
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.prefix + merchant)})
	var missing *smtypes.ResourceNotFoundException
	if errors.As(err, &missing) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("payments: credentials of merchant %s: %w", merchant, err)
	}
	var wire map[string]json.RawMessage
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &wire); err != nil {
		return c, fmt.Errorf("payments: credentials of merchant %s are not the documented JSON", merchant)
	}
	for t, raw := range wire {
		if t == webhookSigningKey {
			if err := json.Unmarshal(raw, &c.signing); err != nil {
				return c, fmt.Errorf("payments: %s of merchant %s is not a string", webhookSigningKey, merchant)
			}
			continue
		}
		var modes map[string]wireCredentials
		if err := json.Unmarshal(raw, &modes); err != nil {
			return c, fmt.Errorf("payments: credentials of merchant %s are not the documented JSON", merchant)
		}
		c.sets[strings.ToUpper(t)] = map[string]psp.Credentials{}
		for mode, w := range modes {
			c.sets[strings.ToUpper(t)][strings.ToLower(mode)] = psp.Credentials{SecretKey: w.SecretKey, PublishableKey: w.PublishableKey, WebhookSecret: w.WebhookSecret}
		}
	}
	return c, nil
}

// WebhookSigningSecret is the secret merchant's notifications are signed
// with ("" when its secret has none).
func (s *secretCredentials) WebhookSigningSecret(ctx context.Context, merchant string) (string, error) {
	c, err := s.load(ctx, merchant)
	return c.signing, err
}

// WebhookSigningSecret is PAYMENTS_WEBHOOK_SECRET: locally every merchant's.
func (e envCredentials) WebhookSigningSecret(ctx context.Context, merchant string) (string, error) {
	if err := e.d.SecretRead(ctx, EnvMerchantSecretPrefix, merchant); err != nil {
		return "", fmt.Errorf("payments: signing secret of merchant %s: %w", merchant, err)
	}
	return e.d.Getenv(EnvWebhookSigningSecret), nil
}
