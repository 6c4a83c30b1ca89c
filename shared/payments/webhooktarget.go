package payments

import (
	"context"
	"fmt"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// SigningSecrets knows merchants' webhook signing secrets: both credential
// sources of CredentialsFromEnv do.
type SigningSecrets interface {
	WebhookSigningSecret(ctx context.Context, merchant string) (string, error)
}

// NotificationTarget is where merchant id's notifications go (its
// webhookUrl, "" for none) and the secret they are signed with.
func NotificationTarget(ctx context.Context, st dynamo.Store, creds CredentialSource, id string) (url, secret string, err error) {
	m, found, err := (&Merchants{st: st, table: st.Tables.Payments}).Merchant(ctx, id)
	if err != nil || !found {
		return "", "", err
	}
	signer, ok := creds.(SigningSecrets)
	if !ok {
		return "", "", fmt.Errorf("payments: the credential source of merchant %s knows no webhook signing secret", id)
	}
	secret, err = signer.WebhookSigningSecret(ctx, id)
	if err != nil {
		return "", "", err
	}
	return m.WebhookURL, secret, nil
}

// RecipientKind is the kind of outbox recipient a merchant is:
// dynamo.Tuple(RecipientKind, merchant id).
const RecipientKind = "merchant"

// MerchantTargets resolves the dispatcher's "merchant" recipients: a
// merchant's notification URL and signing secret (creds:
// CredentialsFromEnv). With no credential source, no merchant has a target.
func MerchantTargets(st dynamo.Store, creds CredentialSource) delivery.TargetFunc {
	return func(ctx context.Context, id string) (delivery.Target, error) {
		if creds == nil {
			return delivery.Target{}, fmt.Errorf("%w: no merchant credentials", delivery.ErrNoTarget)
		}
		url, secret, err := NotificationTarget(ctx, st, creds, id)
		if err != nil {
			return delivery.Target{}, err
		}
		return delivery.Target{URL: url, Secret: secret}, nil
	}
}
