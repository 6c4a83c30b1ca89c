package signing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
)

// rotating holds a current and a previous key, as Secrets Manager does
// during a rotation.
type rotating []string

func (r rotating) Values(context.Context, secrets.Name) ([]string, error) { return r, nil }

func TestSignKnownAnswer(t *testing.T) {
	// HMAC-SHA256("k1", "cart" 0x00 "hello"), base64url without padding,
	// computed independently with Python's hmac module.
	const want = "2RDwaaLCX6R1dnkTypE2q7nNtRbtBvreaPg9OQD8iDY"
	got, err := signing.New(secrets.Static{secrets.CheckoutSigningKey: "k1"}).Sign(context.Background(), "cart", []byte("hello"))
	if err != nil || got != want {
		t.Fatalf("Sign = %q, %v; want %q", got, err, want)
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	old := signing.New(secrets.Static{secrets.CheckoutSigningKey: "old"})
	sig, err := old.Sign(ctx, "order", []byte("ORD-1"))
	if err != nil {
		t.Fatal(err)
	}
	during := signing.Signer{Keys: rotating{"new", "old"}}
	after := signing.New(secrets.Static{secrets.CheckoutSigningKey: "new"})
	cases := []struct {
		name    string
		s       signing.Signer
		purpose string
		msg     string
		sig     string
		want    bool
	}{
		{"same key", old, "order", "ORD-1", sig, true},
		{"previous key during a rotation", during, "order", "ORD-1", sig, true},
		{"key rotated away", after, "order", "ORD-1", sig, false},
		{"other message", old, "order", "ORD-2", sig, false},
		{"other purpose", old, "cart", "ORD-1", sig, false},
		{"truncated", old, "order", "ORD-1", sig[:20], false},
		{"not base64", old, "order", "ORD-1", "!!!", false},
		{"empty", old, "order", "ORD-1", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.s.Verify(ctx, c.purpose, []byte(c.msg), c.sig)
			if err != nil || got != c.want {
				t.Fatalf("Verify = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestNoKey(t *testing.T) {
	s := signing.New(secrets.Static{})
	if _, err := s.Sign(context.Background(), "cart", nil); !errors.Is(err, signing.ErrNoKey) {
		t.Fatalf("Sign without a key: %v, want ErrNoKey", err)
	}
	if _, err := s.Verify(context.Background(), "cart", nil, "x"); !errors.Is(err, signing.ErrNoKey) {
		t.Fatalf("Verify without a key: %v, want ErrNoKey", err)
	}
}
