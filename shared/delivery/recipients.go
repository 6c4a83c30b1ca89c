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
		return Target{URL: l.Store.WebhookURL, Secret: secret}, nil
	}
	return Target{}, fmt.Errorf("%w: unknown kind of recipient %q", ErrNoTarget, recipient)
}

// SecretsAPI is the part of the Secrets Manager client StoreSecrets uses.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// StoreSecrets reads a deployed store's webhook secret: the Secrets
// Manager secret its webhookSecretRef names, whose string is the secret.
// A "local:" reference (a plaintext secret of a stores file) resolves only
// in the process that imported it (local, from the local runner).
func StoreSecrets(client SecretsAPI, local map[string]string) func(ctx context.Context, ref string) (string, error) {
	return func(ctx context.Context, ref string) (string, error) {
		if strings.HasPrefix(ref, "local:") {
			if s, ok := local[ref]; ok {
				return s, nil
			}
			return "", fmt.Errorf("%w: the local secret %s is not loaded here", ErrNoTarget, ref)
		}
		if client == nil {
			return "", fmt.Errorf("%w: no Secrets Manager for %s", ErrNoTarget, ref)
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
