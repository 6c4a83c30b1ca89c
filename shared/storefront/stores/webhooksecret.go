package stores

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// PreviousSecretValidity is how long a rotated-out webhook secret still
// signs deliveries beside the new one: a day for the store to give its
// receiver the new secret.
const PreviousSecretValidity = 24 * time.Hour

// WebhookSecretStore keeps stores' webhook signing secrets, one version per
// rotation, where the dispatcher reads them (WebhookSecrets): Secrets
// Manager in AWS (SecretsManagerWebhookSecrets), memory under make run
// (LocalWebhookSecrets).
type WebhookSecretStore interface {
	// Put stores value as version (a rotation's id) of store slug's secret
	// and returns its reference (what a store row records). A version
	// stored before keeps its first value, which Put returns as stored: a
	// retried rotation ends with the secret its first attempt stored.
	Put(ctx context.Context, slug, version, value string) (ref, stored string, err error)
	// Get reads the secret ref names.
	Get(ctx context.Context, ref string) (string, error)
}

// refVersionSep separates a secret's name from its version in a
// reference ("name#version"); Secrets Manager names cannot hold '#'.
const refVersionSep = "#"

// SecretsManagerAPI is the part of the Secrets Manager client a
// rotation uses.
type SecretsManagerAPI interface {
	secrets.SecretsManagerAPI
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
}

// SecretsManagerWebhookSecrets keeps each store's webhook secret as the
// Secrets Manager secret Prefix+slug (the dispatcher's
// STORE_SECRET_PREFIX), one secret version per rotation, its version id
// the rotation's id: a reference names the secret and the version, so the
// secret's AWSCURRENT label (moved by a rotation whose store row was
// never written) decides nothing.
type SecretsManagerWebhookSecrets struct {
	Client SecretsManagerAPI
	Prefix string
}

// Put implements WebhookSecretStore. Calls: GetSecretValue of the version
// (stored before: its value), else PutSecretValue with the version as its
// idempotency token (CreateSecret for the store's first secret).
func (s SecretsManagerWebhookSecrets) Put(ctx context.Context, slug, version, value string) (string, string, error) {
	name := s.Prefix + slug
	ref := name + refVersionSep + version
	if got, err := s.Get(ctx, ref); err == nil {
		return ref, got, nil
	} else if !errors.Is(err, delivery.ErrNoTarget) {
		return "", "", err
	}
	_, err := s.Client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), ClientRequestToken: aws.String(version),
		SecretString: aws.String(value)})
	var missing *smtypes.ResourceNotFoundException
	if errors.As(err, &missing) {
		_, err = s.Client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), ClientRequestToken: aws.String(version),
			SecretString: aws.String(value), Description: aws.String("Tollgate: the webhook signing secret of store " + slug)})
	}
	if err != nil {
		return "", "", fmt.Errorf("stores: write webhook secret of %s: %w", slug, err)
	}
	return ref, value, nil
}

// Get implements WebhookSecretStore.
func (s SecretsManagerWebhookSecrets) Get(ctx context.Context, ref string) (string, error) {
	return WebhookSecrets(s.Client, s.Prefix, nil)(ctx, ref)
}

// LocalWebhookSecrets keeps rotated webhook secrets in the local
// runner's secrets (make run: deps.Deps.LocalSecrets), which its
// dispatcher reads them from (WebhookSecrets' local source): references
// "local:<slug>#<version>".
type LocalWebhookSecrets struct {
	Keys *secrets.Local
}

// Put implements WebhookSecretStore.
func (l LocalWebhookSecrets) Put(_ context.Context, slug, version, value string) (string, string, error) {
	ref := LocalSecretRef(slug) + refVersionSep + version
	return ref, l.Keys.PutNew(secrets.Name(ref), value), nil
}

// Get implements WebhookSecretStore.
func (l LocalWebhookSecrets) Get(ctx context.Context, ref string) (string, error) {
	return WebhookSecrets(nil, "", l.Keys)(ctx, ref)
}

// Rotation is the outcome of RotateWebhookSecret.
type Rotation struct {
	// Secret is the new signing secret (Standard Webhooks form, whsec_…):
	// shown once, kept nowhere but in the secret store.
	Secret        string
	Ref           string
	PreviousRef   string    // "": the store had no secret
	PreviousUntil time.Time // until when PreviousRef still signs
	Replayed      bool      // a retry of a rotation that was done: its secret again
}

var rotationIDRE = regexp.MustCompile(`^[A-Za-z0-9-]{32,64}$`)

// NewRotationID is a fresh rotation id: the page that offers a rotation
// issues one, and a retry of the same submission presents it again.
func NewRotationID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24)
	return hex.EncodeToString(b)
}

// ErrRotationID is the reason of a rotation id that is not one.
var ErrRotationID = errors.New("stores: a rotation id is 32-64 letters, digits or hyphens")

// newWebhookSecret is a fresh secret in the Standard Webhooks form: 32
// random bytes (delivery.SigningKey decodes it).
func newWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return delivery.StandardSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// RotateWebhookSecret gives store slug a new webhook signing secret (its
// first, or the next): the secret is stored as version rotationID in
// secretStore, then the store row records it as current, the one it
// replaces as previous (valid PreviousSecretValidity more, so deliveries
// carry both signatures meanwhile) and rotationID, in one transaction
// with audit, conditional on the current secret being the one read.
//
// A retry with the same rotationID converges whatever call failed: before
// the row is written it stores (or finds) the same version and writes the
// row; after, it finds the row done and answers the same secret
// (Replayed). A rotation that failed and is never retried leaves an
// unreferenced secret version, which signs nothing.
func (a Admin) RotateWebhookSecret(ctx context.Context, secretStore WebhookSecretStore, slug, rotationID string, audit types.TransactWriteItem) (Rotation, error) {
	if !rotationIDRE.MatchString(rotationID) {
		return Rotation{}, ErrRotationID
	}
	for attempt := 0; attempt < 5; attempt++ {
		st, found, err := a.ReadStore(ctx, slug)
		if err != nil {
			return Rotation{}, err
		}
		if !found {
			return Rotation{}, fmt.Errorf("%w: %s", ErrNoStore, slug)
		}
		if st.webhookSecretRotation == rotationID {
			secret, err := secretStore.Get(ctx, st.WebhookSecretRef)
			if err != nil {
				return Rotation{}, fmt.Errorf("rotation of %s done; reading its secret: %w", slug, err)
			}
			return Rotation{Secret: secret, Ref: st.WebhookSecretRef, PreviousRef: st.WebhookSecretPreviousRef,
				PreviousUntil: st.WebhookSecretPreviousUntil, Replayed: true}, nil
		}
		ref, secret, err := secretStore.Put(ctx, slug, rotationID, newWebhookSecret())
		if err != nil {
			return Rotation{}, err
		}
		until := a.Now().Add(PreviousSecretValidity).UTC().Truncate(time.Millisecond)
		u := expression.Set(expression.Name(attrWebhookSecretRef), expression.Value(ref)).
			Set(expression.Name(attrWebhookSecretRotation), expression.Value(rotationID))
		out := Rotation{Secret: secret, Ref: ref}
		if st.WebhookSecretRef != "" {
			u = u.Set(expression.Name(attrWebhookSecretPrev), expression.Value(st.WebhookSecretRef)).
				Set(expression.Name(attrWebhookSecretPrevUntil), expression.Value(until.UnixMilli()))
			out.PreviousRef, out.PreviousUntil = st.WebhookSecretRef, until
		} else {
			u = u.Remove(expression.Name(attrWebhookSecretPrev)).Remove(expression.Name(attrWebhookSecretPrevUntil))
		}
		same := expression.AttributeNotExists(expression.Name(attrWebhookSecretRef))
		if st.WebhookSecretRef != "" {
			same = expression.Name(attrWebhookSecretRef).Equal(expression.Value(st.WebhookSecretRef))
		} else {
			same = same.Or(expression.Name(attrWebhookSecretRef).Equal(expression.Value("")))
		}
		err = a.st().Transact(ctx, withAudit([]types.TransactWriteItem{
			dynamo.UpdateOp(a.Table, dynamo.PKSK(storePK(slug), skStore), u, dynamo.Cond(dynamo.Exists().And(same))),
		}, audit))
		var failed *dynamo.ConditionFailedError
		if errors.As(err, &failed) {
			continue // another rotation meanwhile, or this one's answer was lost: read again
		}
		if err != nil {
			return Rotation{}, fmt.Errorf("rotation of %s: %w", slug, err)
		}
		return out, nil
	}
	return Rotation{}, fmt.Errorf("rotation of %s: the store's secret kept changing meanwhile", slug)
}

// splitRef splits a secret reference into the secret's name and version
// ("" for a reference without one: the secret's current version).
func splitRef(ref string) (name, version string) {
	name, version, _ = strings.Cut(ref, refVersionSep)
	return name, version
}
