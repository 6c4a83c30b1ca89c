// Package handler implements the dispatcher (shared/platform/delivery): fed by the
// outbox table's stream, it attempts each new event at once; on a
// schedule, it delivers a bounded batch of due events (retries after
// their backoff, events deferred behind an earlier one of their order,
// and any event the stream path missed).
package handler

import (
	"context"
	"fmt"
	"log/slog"
	"math"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
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

// New builds the scheduled job from its dependencies.
func New(d deps.Deps) (lambdarun.JobFunc, error) {
	disp, batch, err := dispatcher(d)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		st, err := disp.Run(ctx, batch)
		logStats(ctx, d, st)
		return err
	}, nil
}

// NewStream builds the stream's work: the new items' keys name events,
// which are claimed and sent as the schedule's are (an event already
// claimed or sent is skipped, so a retried batch sends nothing twice).
func NewStream(d deps.Deps) (lambdarun.StreamFunc, error) {
	disp, _, err := dispatcher(d)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, keys []string) error {
		ids := make([]string, 0, len(keys))
		for _, k := range keys {
			if id, ok := outbox.IDOfKey(k); ok {
				ids = append(ids, id)
			}
		}
		var st delivery.Stats
		err := disp.Attempt(ctx, ids, &st)
		logStats(ctx, d, st)
		return err
	}, nil
}

// logStats logs what a run or a batch did: at Info when it claimed an
// event, at Debug when it claimed none (skipped events only), nothing when
// there was no event at all.
func logStats(ctx context.Context, d deps.Deps, st delivery.Stats) {
	if st == (delivery.Stats{}) {
		return
	}
	level := slog.LevelInfo
	if st.Idle() {
		level = slog.LevelDebug
	}
	d.Logger.Log(ctx, level, "dispatch run", "delivered", st.Delivered, "failed", st.Failed, "dead", st.Dead,
		"skipped", st.Skipped, "deferred", st.Deferred, "undeliverable", st.Undeliverable, "interrupted", st.Interrupted)
}

func dispatcher(d deps.Deps) (*delivery.Dispatcher, int32, error) {
	batch, err := d.PositiveInt(EnvDispatchBatch, 50)
	if err != nil {
		return nil, 0, err
	}
	if batch < 1 || batch > math.MaxInt32 { // Run takes an int32
		return nil, 0, fmt.Errorf("%s=%d: want at most %d", EnvDispatchBatch, batch, math.MaxInt32)
	}
	env, err := d.OneOf(EnvEnvironment, "dev", "dev", "staging", "prod")
	if err != nil {
		return nil, 0, err
	}
	if d.Store.Tables.Outbox == "" {
		return nil, 0, fmt.Errorf("dispatch: OUTBOX_TABLE is not set")
	}
	ctx := context.Background()
	creds, err := payments.CredentialsFromEnv(ctx, d)
	if err != nil {
		return nil, 0, err
	}
	prefix := d.String(EnvStoreSecretPrefix, "")
	var sm secrets.SecretsManagerAPI
	if prefix != "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("dispatch: AWS config: %w", err)
		}
		sm = secretsmanager.NewFromConfig(cfg)
	}
	prod := env == "prod"
	return &delivery.Dispatcher{
		Box: outbox.Box{DB: d.Store.DB, Table: d.Store.Tables.Outbox},
		Resolver: delivery.Recipients{
			payments.RecipientKind: payments.MerchantTargets(d.Store, creds),
			stores.RecipientKind:   stores.WebhookTargets(d.Store, stores.WebhookSecrets(sm, prefix, d.Secrets)),
		},
		Client: delivery.Client(prod),
		Prod:   prod,
		Now:    d.Now,
		Logger: d.Logger,
	}, int32(batch), nil
}
