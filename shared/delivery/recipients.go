package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/secrets"
	"github.com/tollgate-dev/tollgate/shared/store"
	"github.com/tollgate-dev/tollgate/shared/stores"
)

// Recipients resolves the outbox's two kinds of recipient:
// ("merchant", id) through shared/payments and ("store", slug) through
// shared/stores.
type Recipients struct {
	Store store.Store
	// Credentials holds merchants' signing secrets (payments.CredentialsFromEnv).
	Credentials payments.CredentialSource
	// StoreSecret reads the secret a store's webhookSecretRef names.
	StoreSecret func(ctx context.Context, ref string) (string, error)
}

// Resolve finds recipient's target; ErrNoTarget when it has none.
func (r Recipients) Resolve(ctx context.Context, recipient string) (Target, error) {
	parts, err := store.SplitTuple(recipient)
	if err != nil || len(parts) != 2 {
		return Target{}, fmt.Errorf("%w: %q is not a recipient", ErrNoTarget, recipient)
	}
	switch parts[0] {
	case "merchant":
		if r.Credentials == nil {
			return Target{}, fmt.Errorf("%w: no merchant credentials", ErrNoTarget)
		}
		url, secret, err := payments.NotificationTarget(ctx, r.Store, r.Credentials, parts[1])
		if err != nil {
			return Target{}, err
		}
		return Target{URL: url, Secret: secret}, nil
	case "store":
		l, err := stores.ReadListing(ctx, r.Store.DB, r.Store.Tables.Stores, parts[1])
		if err != nil || !l.Found || l.Store.WebhookURL == "" || l.Store.WebhookSecretRef == "" || r.StoreSecret == nil {
			return Target{}, err
		}
		secret, err := r.StoreSecret(ctx, l.Store.WebhookSecretRef)
		if err != nil {
			return Target{}, err
		}
		return Target{URL: l.Store.WebhookURL, Secret: secret, Header: l.Store.WebhookSignatureHeader}, nil
	}
	return Target{}, fmt.Errorf("%w: unknown kind of recipient %q", ErrNoTarget, recipient)
}

// StoreSecrets reads a store's webhook secret. A deployed store's
// webhookSecretRef names a Secrets Manager secret under prefix whose string
// is the secret (the dispatcher may read nothing else). A "local:"
// reference (a plaintext secret of a stores file under make run) is read
// from local, the local runner's key source.
func StoreSecrets(client secrets.SecretsManagerAPI, prefix string, local secrets.Source) func(ctx context.Context, ref string) (string, error) {
	return func(ctx context.Context, ref string) (string, error) {
		if strings.HasPrefix(ref, "local:") {
			if local != nil {
				if v, err := local.Values(ctx, secrets.Name(ref)); err == nil && len(v) > 0 {
					return v[0], nil
				}
			}
			return "", fmt.Errorf("%w: the local secret %s is not loaded here", ErrNoTarget, ref)
		}
		if client == nil || prefix == "" || !strings.HasPrefix(ref, prefix) {
			return "", fmt.Errorf("%w: secret %s is not under %q", ErrNoTarget, ref, prefix)
		}
		out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref)})
		var missing *smtypes.ResourceNotFoundException
		if errors.As(err, &missing) {
			return "", fmt.Errorf("%w: no secret %s", ErrNoTarget, ref)
		}
		if err != nil {
			return "", fmt.Errorf("delivery: store webhook secret %s: %w", ref, err)
		}
		return aws.ToString(out.SecretString), nil
	}
}
