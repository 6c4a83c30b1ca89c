package payments_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

// A merchant's PSP credentials come from its Secrets Manager secret
// (moto_server's Secrets Manager), by PSP and mode, cached.
func TestSecretCredentials(t *testing.T) {
	url, ok := ddbtest.Moto(t)
	if !ok {
		t.Skip("moto_server is not installed")
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	client := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
	prefix := fmt.Sprintf("tollgate-test/%d/merchants/", time.Now().UnixNano())
	if _, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(prefix + "acme"),
		SecretString: aws.String(`{"STRIPE": {"test": {"secretKey": "sk_test_1", "publishableKey": "pk_test_1", "webhookSecret": "whsec_1"}}, "webhookSigningSecret": "sign_1"}`)}); err != nil {
		t.Fatal(err)
	}
	src := payments.SecretsManagerCredentials(client, prefix, time.Now)
	c, err := src.Credentials(ctx, "acme", psp.Stripe, true)
	if err != nil || c.SecretKey != "sk_test_1" || c.PublishableKey != "pk_test_1" || c.WebhookSecret != "whsec_1" {
		t.Fatalf("test credentials = %+v, %v", c, err)
	}
	for name, call := range map[string]func() error{
		"live mode not set":  func() error { _, err := src.Credentials(ctx, "acme", psp.Stripe, false); return err },
		"a merchant without": func() error { _, err := src.Credentials(ctx, "nobody", psp.Stripe, true); return err },
	} {
		if err := call(); !errors.Is(err, psp.ErrNotConfigured) {
			t.Errorf("%s: %v, want ErrNotConfigured", name, err)
		}
	}
	if c, err := src.Credentials(ctx, "nobody", psp.Sandbox, true); err != nil || c != (psp.Credentials{}) {
		t.Errorf("sandbox needs no credentials: %+v, %v", c, err)
	}
	signer := src.(payments.SigningSecrets)
	if s, err := signer.WebhookSigningSecret(ctx, "acme"); err != nil || s != "sign_1" {
		t.Errorf("acme's signing secret = %q, %v", s, err)
	}
	if s, err := signer.WebhookSigningSecret(ctx, "nobody"); err != nil || s != "" {
		t.Errorf("nobody's signing secret = %q, %v", s, err)
	}
}
