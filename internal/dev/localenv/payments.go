package localenv

import (
	"context"
	"fmt"

	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

// The payments API's demo merchant of a local run, and the development
// defaults of its keys (public: docs/local.md lists them; never deploy them).
const (
	DemoMerchant              = "demo"
	EnvPaymentsSecretKey      = "PAYMENTS_SECRET_KEY"
	EnvPaymentsPublishableKey = "PAYMENTS_PUBLISHABLE_KEY"
	EnvPaymentsWebhookURL     = "PAYMENTS_WEBHOOK_URL"
	DevPaymentsSecretKey      = "pay_sk_local_development_only_secret_key_0001"
	DevPaymentsPublishableKey = "pay_pk_local_development_only_publishable_0001"
	// DemoAlias is the demo merchant's exchanged SANDBOX card (tok_visa, test mode).
	DemoAlias = "al_demo_visa"
	// demoFunction is a payments function whose environment names the
	// payments table the demo data goes to.
	demoFunction = "PreauthorizationFunction"
)

// createDemoMerchant creates the demo merchant and its keys (from the
// environment, else the development defaults), unless they exist.
func (s *Stack) createDemoMerchant(ctx context.Context) error {
	if _, ok := s.Template.Functions[demoFunction]; !ok {
		return nil // a template without the payments API
	}
	d, err := s.Deps(demoFunction)
	if err != nil {
		return err
	}
	// Creating merchants is an operator's work (cmd/payments), not the function's:
	// the stack's own client, outside any role.
	d.Store.DB, d.Secrets, d.CheckSecretRead = s.DB, s.Keys, nil
	svc, err := payments.New(d, psp.NewRegistry(), nil)
	if err != nil {
		return err
	}
	m := svc.Merchants
	if _, found, err := m.Merchant(ctx, DemoMerchant); err != nil {
		return err
	} else if !found {
		if err := m.CreateMerchant(ctx, payments.Merchant{ID: DemoMerchant, Name: "Demo merchant", WebhookURL: s.cfg.Getenv(EnvPaymentsWebhookURL)}); err != nil {
			return err
		}
	}
	for kind, key := range map[payments.KeyKind]string{
		payments.SecretKey:      or(s.cfg.Getenv(EnvPaymentsSecretKey), DevPaymentsSecretKey),
		payments.PublishableKey: or(s.cfg.Getenv(EnvPaymentsPublishableKey), DevPaymentsPublishableKey),
	} {
		if _, err := m.AddKey(ctx, DemoMerchant, kind, key); err != nil {
			return fmt.Errorf("demo merchant's %s key: %w", kind, err)
		}
	}
	return svc.PutExchangedAlias(ctx, DemoMerchant, DemoAlias, psp.Sandbox, true, "tok_visa", "CC")
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
