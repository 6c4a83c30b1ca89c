// Package handler implements the dispatcher: on a schedule, it delivers a
// bounded batch of due outbox events (shared/delivery).
package handler

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tollgate-dev/tollgate/shared/delivery"
	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/lambdarun"
	"github.com/tollgate-dev/tollgate/shared/outbox"
	"github.com/tollgate-dev/tollgate/shared/payments"
)

// Settings.
const (
	// EnvDispatchBatch bounds the events one run attempts (default 50).
	EnvDispatchBatch = "DISPATCH_BATCH"
	// EnvEnvironment is the deployment environment; "prod" enforces the
	// production URL rules (https only, public addresses only).
	EnvEnvironment = "ENVIRONMENT"
	// EnvStoreSecretPrefix: deployed stores' webhookSecretRef must name a
	// Secrets Manager secret under it; unset (locally): none is read.
	EnvStoreSecretPrefix = "STORE_SECRET_PREFIX"
)

// New builds the job from its dependencies.
func New(d deps.Deps) (lambdarun.JobFunc, error) {
	batch, err := d.PositiveInt(EnvDispatchBatch, 50)
	if err != nil {
		return nil, err
	}
	env, err := d.OneOf(EnvEnvironment, "dev", "dev", "staging", "prod")
	if err != nil {
		return nil, err
	}
	if d.Store.Tables.Outbox == "" {
		return nil, fmt.Errorf("dispatch: OUTBOX_TABLE is not set")
	}
	ctx := context.Background()
	creds, err := payments.CredentialsFromEnv(ctx, d)
	if err != nil {
		return nil, err
	}
	prefix := d.String(EnvStoreSecretPrefix, "")
	var sm delivery.SecretsAPI
	if prefix != "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("dispatch: AWS config: %w", err)
		}
		sm = secretsmanager.NewFromConfig(cfg)
	}
	prod := env == "prod"
	disp := &delivery.Dispatcher{
		Box:      outbox.Box{DB: d.Store.DB, Table: d.Store.Tables.Outbox},
		Resolver: delivery.Recipients{Store: d.Store, Credentials: creds, StoreSecret: delivery.StoreSecrets(sm, prefix, d.Secrets)},
		Client:   delivery.Client(prod),
		Prod:     prod,
		Now:      d.Now,
		Logger:   d.Logger,
	}
	return func(ctx context.Context) error {
		st, err := disp.Run(ctx, int32(batch))
		if st != (delivery.Stats{}) {
			d.Logger.InfoContext(ctx, "dispatch run", "delivered", st.Delivered, "failed", st.Failed, "dead", st.Dead, "skipped", st.Skipped)
		}
		return err
	}, nil
}
