package payments

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/apikey"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/adapters"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/sandbox"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

// Adapters finds the adapter of a PSP-Type in a mode (psp.ErrNotConfigured
// when there is none): a *psp.Registry.
type Adapters interface {
	Get(t psp.Type, testMode bool) (psp.Adapter, error)
}

// CredentialSource gives a merchant's credentials for a PSP in a mode
// (psp.ErrNotConfigured when the merchant has none).
type CredentialSource interface {
	Credentials(ctx context.Context, merchant string, t psp.Type, test bool) (psp.Credentials, error)
}

// Service is the payments API's domain.
type Service struct {
	Merchants *Merchants
	st        dynamo.Store
	table     string
	outbox    string
	now       func() time.Time
	log       *slog.Logger
	adapters  Adapters
	creds     CredentialSource
	// pollEvery is how often a concurrent duplicate re-reads the first
	// request's record while it waits.
	pollEvery time.Duration
}

// Settings of the payments functions.
const (
	EnvKeyCacheTTL = "KEY_CACHE_TTL"
	// defaultKeyCacheTTL bounds how long a revoked key may still work in a
	// warm container.
	defaultKeyCacheTTL = 5 * time.Second
)

// New builds the payments domain from a function's dependencies, its PSP
// adapters and the merchants' credentials.
func New(d deps.Deps, adapters Adapters, creds CredentialSource) (*Service, error) {
	if d.Store.Tables.Payments == "" {
		return nil, fmt.Errorf("payments: %s is not set", dynamo.EnvPaymentsTable)
	}
	ttl, err := d.Duration(EnvKeyCacheTTL, defaultKeyCacheTTL)
	if err != nil {
		return nil, err
	}
	if ttl > time.Minute {
		return nil, fmt.Errorf("payments: %s %v: a revoked key must stop working within a minute", EnvKeyCacheTTL, ttl)
	}
	s := &Service{st: d.Store, table: d.Store.Tables.Payments, outbox: d.Store.Tables.Outbox, now: d.Now, log: d.Logger,
		adapters: adapters, creds: creds, pollEvery: 100 * time.Millisecond}
	s.Merchants = &Merchants{st: d.Store, table: s.table, now: d.Now, log: d.Logger, ttl: ttl, cache: map[apikey.Digest]cachedKey{}}
	return s, nil
}

// adapter returns the adapter and the merchant's credentials for t in mode
// test, or a refusal with ErrPSPNotConfigured.
func (s *Service) adapter(ctx context.Context, merchant string, t psp.Type, test bool) (psp.Adapter, psp.Credentials, error) {
	a, err := s.adapters.Get(t, test)
	if err == nil {
		var c psp.Credentials
		if c, err = s.creds.Credentials(ctx, merchant, t, test); err == nil {
			return a, c, nil
		}
	}
	if errors.Is(err, psp.ErrNotConfigured) {
		return nil, psp.Credentials{}, refusal.New(ErrPSPNotConfigured, "no configuration for PSP %s (test mode %t)", t, test)
	}
	return nil, psp.Credentials{}, err
}

// pspKey derives the idempotency key sent to the PSP from the parts that
// name one money movement: the same movement, the same key, in every retry.
func pspKey(parts ...string) string {
	return "tg_" + dynamo.Fingerprint(parts...)
}

// item reads one item with a strongly consistent read (nil when absent).
func (s *Service) item(ctx context.Context, key dynamo.Key) (map[string]types.AttributeValue, error) {
	out, err := s.st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("payments: read %s: %w", dynamo.StringAttr(key[dynamo.AttrPK]), err)
	}
	return out.Item, nil
}

// items reads several items in one round trip (strongly consistent),
// returned in the order of keys (nil for an absent one).
func (s *Service) items(ctx context.Context, keys ...dynamo.Key) ([]map[string]types.AttributeValue, error) {
	req := make([]map[string]types.AttributeValue, len(keys))
	copy(req, keys)
	out, err := s.st.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		s.table: {Keys: req, ConsistentRead: aws.Bool(true)},
	}})
	if err != nil {
		return nil, fmt.Errorf("payments: read: %w", err)
	}
	if len(out.UnprocessedKeys) > 0 {
		// Rare (throttling): read what is left one by one.
		found := make([]map[string]types.AttributeValue, len(keys))
		for i, k := range keys {
			if found[i], err = s.item(ctx, k); err != nil {
				return nil, err
			}
		}
		return found, nil
	}
	found := make([]map[string]types.AttributeValue, len(keys))
	for _, it := range out.Responses[s.table] {
		for i, k := range keys {
			if dynamo.StringAttr(it[dynamo.AttrPK]) == dynamo.StringAttr(k[dynamo.AttrPK]) && dynamo.StringAttr(it[dynamo.AttrSK]) == dynamo.StringAttr(k[dynamo.AttrSK]) {
				found[i] = it
			}
		}
	}
	return found, nil
}

// newID returns prefix, an underscore and 20 random base32 characters (100
// bits): ids of aliases and transactions, unguessable.
func newID(prefix string) (string, error) {
	b := make([]byte, 13)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("payments: random id: %w", err)
	}
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:20], nil
}

// sandboxSettleAfter is how long the process's SANDBOX waits before it
// settles a PENDING charge by itself (0: never); notifier applies the
// settlement, through the same path as a real PSP's notification.
var (
	sandboxSettleAfter atomic.Int64
	notifier           atomic.Pointer[Service]
)

// SettleSandboxAfter makes the process's SANDBOX settle PENDING charges by
// itself after d (the local runner: one long-lived process). Deployed
// functions leave it off: a Lambda container is frozen between requests.
// Call it before the first Open.
func SettleSandboxAfter(d time.Duration) { sandboxSettleAfter.Store(int64(d)) }

// sharedSandbox is the process's one SANDBOX PSP, so every function of a
// local run (one process) sees the same sandbox charges.
var sharedSandbox = sync.OnceValue(func() *sandbox.Adapter {
	return sandbox.New(sandbox.Options{
		SettleAfter: time.Duration(sandboxSettleAfter.Load()),
		Notify: func(ctx context.Context, n psp.Notification) error {
			svc := notifier.Load()
			if svc == nil {
				return errors.New("payments: no service to apply the sandbox's settlement yet")
			}
			_, err := svc.ApplyNotification(ctx, n)
			return err
		},
	})
})

// Open builds the payments domain as a function runs it: the PSP adapters
// (STRIPE, and SANDBOX in test mode) and the merchants' credentials from
// the environment (CredentialsFromEnv).
func Open(ctx context.Context, d deps.Deps) (*Service, error) {
	creds, err := CredentialsFromEnv(ctx, d)
	if err != nil {
		return nil, err
	}
	settings, err := adapters.SettingsFrom(d)
	if err != nil {
		return nil, err
	}
	svc, err := New(d, adapters.New(settings, sharedSandbox()), creds)
	if err == nil {
		notifier.CompareAndSwap(nil, svc)
	}
	return svc, err
}
