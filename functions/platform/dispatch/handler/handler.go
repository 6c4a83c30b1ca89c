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
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
	"github.com/tollgate-dev/tollgate/shared/platform/mail"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkoutweb"
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
	EnvStoreSecretPrefix = stores.EnvStoreSecretPrefix
	// EnvMailFrom is the buyers' emails' sender, an SES-verified identity
	// (the MailFrom parameter); unset: emails are undeliverable until it
	// is set (then replayed with cmd/outbox).
	EnvMailFrom = mail.EnvFrom
	// EnvMailConfigurationSet names the SES configuration set of every
	// send ("" none).
	EnvMailConfigurationSet = mail.EnvConfigurationSet
	// EnvMailDir, set only by make run, keeps every email as an .eml file
	// there instead of sending it through SES.
	EnvMailDir = mail.EnvDir
	// EnvOrderLinkBase is the absolute origin of the order links in the
	// emails (PublicBaseURL, else the API's own domain).
	EnvOrderLinkBase = "ORDER_LINK_BASE_URL"
	// localMailFrom is make run's sender when MAIL_FROM is unset.
	localMailFrom = "receipts@tollgate.localhost"
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
		"skipped", st.Skipped, "deferred", st.Deferred, "undeliverable", st.Undeliverable, "interrupted", st.Interrupted, "resent", st.Resent)
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
	mailer, err := buyerMail(ctx, d)
	if err != nil {
		return nil, 0, err
	}
	return &delivery.Dispatcher{
		Box: outbox.Box{DB: d.Store.DB, Table: d.Store.Tables.Outbox},
		Resolver: delivery.Recipients{
			payments.RecipientKind: payments.MerchantTargets(d.Store, creds),
			stores.RecipientKind:   stores.WebhookTargets(d.Store, stores.WebhookSecrets(sm, prefix, d.Secrets), d.Now),
		},
		Couriers: map[string]delivery.Courier{stores.EmailKind: mailer},
		Client:   delivery.Client(prod),
		Prod:     prod,
		Now:      d.Now,
		Logger:   d.Logger,
	}, int32(batch), nil
}

// buyerMail is the courier of the buyers' emails: rendered by the
// checkout's pages package (its locales and money formats), sent through
// SES, or kept as files under make run (MAIL_DIR).
func buyerMail(ctx context.Context, d deps.Deps) (*checkoutweb.Mailer, error) {
	svc, err := checkout.Open(ctx, d)
	if err != nil {
		return nil, err
	}
	m := &checkoutweb.Mailer{Orders: svc, Signer: signing.New(d.Secrets),
		BaseURL: strings.TrimSuffix(d.String(EnvOrderLinkBase, ""), "/")}
	if u, err := url.Parse(m.BaseURL); m.BaseURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return nil, fmt.Errorf("%s must be empty or an absolute http(s) URL, got %q", EnvOrderLinkBase, m.BaseURL)
	}
	// No sender (MailFrom unset in AWS): each email is undeliverable,
	// replayable once MailFrom is set.
	m.Sender, m.From, err = mail.FromEnv(ctx, func(k string) string { return d.String(k, "") }, d.Logger, d.Now, localMailFrom)
	if err != nil {
		return nil, fmt.Errorf("dispatch: %w", err)
	}
	return m, nil
}
