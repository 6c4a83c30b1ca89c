package stripe

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/stripemock"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

// mockURL is stripe-mock's address (empty when it is unavailable outside CI).
var mockURL string

func TestMain(m *testing.M) { os.Exit(stripemock.Main(m, &mockURL)) }

var testCreds = psp.Credentials{SecretKey: "sk_test_tollgate", PublishableKey: "pk_test_tollgate", WebhookSecret: "whsec_test"}

// TestAgainstStripeMock sends every call through stripe-go to stripe-mock,
// which checks the request against Stripe's OpenAPI document (a parameter
// Stripe does not know is a 400 there) and answers a fixture. Its fixtures
// carry fixed statuses, so this proves the requests and the parsing; the
// mapping of outcomes is proved by TestScriptedStripe.
func TestAgainstStripeMock(t *testing.T) {
	stripemock.Require(t, mockURL)
	a := New(Options{APIBase: mockURL})
	ctx := context.Background()
	for _, capture := range []bool{false, true} {
		res, err := a.Charge(ctx, testCreds, psp.Charge{IdempotencyKey: "tollgate-charge-1", PSPAlias: "pm_card_visa", Amount: 1250,
			Currency: "EUR", Reason: "order 17", Capture: capture, Metadata: map[string]string{"tollgate_transaction": "tx1", "tollgate_merchant": "m1"}})
		if err != nil {
			t.Fatalf("charge (capture %t): %v", capture, err)
		}
		if !strings.HasPrefix(res.PSPTransactionID, "pi_") || res.Status == "" {
			t.Fatalf("charge (capture %t): %+v", capture, res)
		}
	}
	calls := []struct {
		name string
		call func() (psp.Result, error)
		id   string
	}{
		{"capture", func() (psp.Result, error) { return a.Capture(ctx, testCreds, "pi_123", "tollgate-capture-1", 1250) }, "pi_"},
		{"reverse", func() (psp.Result, error) {
			return a.Reverse(ctx, testCreds, "pi_123", "tollgate-reverse-1", "changed mind")
		}, "pi_"},
		{"refund", func() (psp.Result, error) {
			return a.Refund(ctx, testCreds, "pi_123", "tollgate-refund-1", 500, "returned")
		}, "re_"},
	}
	for _, c := range calls {
		res, err := c.call()
		if err != nil || !strings.HasPrefix(res.PSPTransactionID, c.id) {
			t.Errorf("%s: %+v %v", c.name, res, err)
		}
	}
	if err := a.DeleteAlias(ctx, testCreds, "pm_123"); err != nil {
		t.Errorf("delete alias: %v", err)
	}
}

// TestStripeMockRefusesInvalidRequest: a request Stripe would refuse (here
// a capture without a PaymentIntent id) is a non-retryable error.
func TestStripeMockRefusesInvalidRequest(t *testing.T) {
	stripemock.Require(t, mockURL)
	a := New(Options{APIBase: mockURL})
	_, err := a.Capture(context.Background(), testCreds, "", "tollgate-capture-2", 5)
	var pe *psp.Error
	if !errors.As(err, &pe) || pe.Retryable {
		t.Fatalf("got %v, want a non-retryable *psp.Error", err)
	}
}

// TestCreateIntentAgainstStripeMock: the checkout's PaymentIntent request is
// one Stripe accepts, and its id and client secret are read.
func TestCreateIntentAgainstStripeMock(t *testing.T) {
	stripemock.Require(t, mockURL)
	a := New(Options{APIBase: mockURL})
	res, err := a.CreateIntent(context.Background(), testCreds, psp.Intent{IdempotencyKey: "tollgate-intent-1", Amount: 2999,
		Currency: "GBP", Metadata: map[string]string{"tollgate_store": "shop", "tollgate_order": "ORD-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.PSPID, "pi_") || res.ClientSecret == "" {
		t.Fatalf("intent %+v", res)
	}
	if _, err := a.CreateIntent(context.Background(), psp.Credentials{}, psp.Intent{IdempotencyKey: "k", Amount: 1, Currency: "GBP"}); !errors.Is(err, psp.ErrNotConfigured) {
		t.Fatalf("without a key: %v", err)
	}
}
