package stores

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Settings of the functions that manage stores' webhooks.
const (
	// EnvStoreSecretPrefix names where deployed stores' webhook secrets
	// live in Secrets Manager (tollgate/<env>/stores/): their
	// webhookSecretRef must be under it. Unset (make run): the local
	// runner's secrets (deps.Deps.LocalSecrets).
	EnvStoreSecretPrefix = "STORE_SECRET_PREFIX"
	// EnvEnvironment is the deployment environment; "prod" enforces the
	// webhook URL rules of prod (delivery.CheckURL, delivery.Client).
	EnvEnvironment = "ENVIRONMENT"
)

// Portal is what the partner portal's store pages work with: the store
// admin (writes with audit rows), where webhook secrets are written and
// read, and the client and URL rules of test events.
type Portal struct {
	Admin   Admin
	Secrets WebhookSecretStore
	Sender  delivery.Sender // its Prod: the webhook URL rules of prod
	Now     func() time.Time
}

// OpenPortal builds the portal's store domain from a function's deps:
// Secrets Manager under STORE_SECRET_PREFIX when it is set, the local
// runner's secrets otherwise.
func OpenPortal(ctx context.Context, d deps.Deps) (*Portal, error) {
	if d.Store.Tables.Stores == "" {
		return nil, fmt.Errorf("stores: %s must be set", dynamo.EnvStoresTable)
	}
	env, err := d.OneOf(EnvEnvironment, "dev", "dev", "staging", "prod")
	if err != nil {
		return nil, err
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	p := &Portal{Admin: Admin{DB: d.Store.DB, Table: d.Store.Tables.Stores, Now: now}, Sender: delivery.NewSender(env == "prod"), Now: now}
	switch prefix := d.String(EnvStoreSecretPrefix, ""); {
	case prefix != "":
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("stores: AWS config: %w", err)
		}
		p.Secrets = SecretsManagerWebhookSecrets{Client: secretsmanager.NewFromConfig(cfg), Prefix: prefix}
	case d.LocalSecrets != nil:
		p.Secrets = LocalWebhookSecrets{Keys: d.LocalSecrets}
	default:
		return nil, errors.New("stores: " + EnvStoreSecretPrefix + " is not set and there are no local secrets")
	}
	return p, nil
}

// UpdateSettings saves store slug's settings (Admin.UpdateSettings under
// the portal's URL rules).
func (p *Portal) UpdateSettings(ctx context.Context, slug string, s Settings, audit TransactWriteItem) error {
	return p.Admin.UpdateSettings(ctx, slug, s, p.Sender.Prod, audit)
}

// RotateWebhookSecret rotates store slug's webhook secret
// (Admin.RotateWebhookSecret) in the portal's secret store.
func (p *Portal) RotateWebhookSecret(ctx context.Context, slug, rotationID string, audit TransactWriteItem) (Rotation, error) {
	return p.Admin.RotateWebhookSecret(ctx, p.Secrets, slug, rotationID, audit)
}

// SendTestEvent posts a test event to store slug's webhook URL now
// (SendTestEvent).
func (p *Portal) SendTestEvent(ctx context.Context, slug string) (TestDelivery, error) {
	st := dynamo.Store{DB: p.Admin.DB, Tables: dynamo.Tables{Stores: p.Admin.Table}}
	return SendTestEvent(ctx, st, p.Secrets.Get, p.Sender, slug, p.Now())
}
