package stores

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// RecipientKind is the kind of outbox recipient a store is:
// dynamo.Tuple(RecipientKind, slug).
const RecipientKind = "store"

// WebhookTargets resolves the dispatcher's "store" recipients: a store's
// webhook URL, signature header and secret (read by secret, for example
// WebhookSecrets), and, for PreviousSecretValidity after a rotation, the
// secret it replaced (Target.Previous: deliveries carry both signatures).
// A store with no URL or no secret has no target. now nil: time.Now.
func WebhookTargets(st dynamo.Store, secret func(ctx context.Context, ref string) (string, error), now func() time.Time) delivery.TargetFunc {
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, slug string) (delivery.Target, error) {
		l, err := ReadListing(ctx, st.DB, st.Tables.Stores, slug)
		if err != nil || !l.Found || l.Store.WebhookURL == "" || l.Store.WebhookSecretRef == "" || secret == nil {
			return delivery.Target{}, err
		}
		value, err := secret(ctx, l.Store.WebhookSecretRef)
		if err != nil {
			return delivery.Target{}, err
		}
		t := delivery.Target{URL: l.Store.WebhookURL, Secret: value, Header: l.Store.WebhookSignatureHeader}
		if prev := l.Store.WebhookSecretPreviousRef; prev != "" && now().Before(l.Store.WebhookSecretPreviousUntil) {
			// Not readable is an error, not a delivery without it: a
			// receiver may still hold only the previous secret.
			old, err := secret(ctx, prev)
			if err != nil {
				return delivery.Target{}, fmt.Errorf("stores: previous webhook secret of %s: %w", slug, err)
			}
			t.Previous = []string{old}
		}
		return t, nil
	}
}

// WebhookSecrets reads a store's webhook secret. A deployed store's
// webhookSecretRef names a Secrets Manager secret under prefix whose string
// is the secret (the dispatcher may read nothing else), and after a
// rotation its version ("name#version"). A "local:"
// reference (a plaintext secret of a stores file under make run) is read
// from local, the local runner's key source.
func WebhookSecrets(client secrets.SecretsManagerAPI, prefix string, local secrets.Source) func(ctx context.Context, ref string) (string, error) {
	return func(ctx context.Context, ref string) (string, error) {
		if strings.HasPrefix(ref, "local:") {
			if local != nil {
				if v, err := local.Values(ctx, secrets.Name(ref)); err == nil && len(v) > 0 {
					return v[0], nil
				}
			}
			return "", fmt.Errorf("%w: the local secret %s is not loaded here", delivery.ErrNoTarget, ref)
		}
		if client == nil || prefix == "" || !strings.HasPrefix(ref, prefix) {
			return "", fmt.Errorf("%w: secret %s is not under %q", delivery.ErrNoTarget, ref, prefix)
		}
		// A rotated secret's reference names its version (RotateWebhookSecret).
		name, version := splitRef(ref)
		in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)}
		if version != "" {
			in.VersionId = aws.String(version)
		}
		out, err := client.GetSecretValue(ctx, in)
		var missing *smtypes.ResourceNotFoundException
		if errors.As(err, &missing) {
			return "", fmt.Errorf("%w: no secret %s", delivery.ErrNoTarget, ref)
		}
		if err != nil {
			return "", fmt.Errorf("stores: webhook secret %s: %w", ref, err)
		}
		return aws.ToString(out.SecretString), nil
	}
}
