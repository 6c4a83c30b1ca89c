package payments

import (
	"context"
	"fmt"

	"github.com/tollgate-dev/tollgate/shared/store"
)

// SigningSecrets knows merchants' webhook signing secrets: both credential
// sources of CredentialsFromEnv do.
type SigningSecrets interface {
	WebhookSigningSecret(ctx context.Context, merchant string) (string, error)
}

// NotificationTarget is where merchant id's notifications go (its
// webhookUrl, "" for none) and the secret they are signed with.
func NotificationTarget(ctx context.Context, st store.Store, creds CredentialSource, id string) (url, secret string, err error) {
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
