package portal_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/storefront/portal"
)

var rp = portal.RP{ID: "portal.example", Origin: "https://portal.example", Name: "Tollgate partner portal"}

// A member adds a passkey after signing in, then signs in with it without
// giving an address; a ceremony is used once; the passkey can be renamed
// and removed, and a removed one signs nobody in.
func TestPasskey(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop")
		ctx := context.Background()
		tok := e.join(t, "shop", "pk@example.com", portal.RoleOwner)
		sess, err := e.svc.Session(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		auth := newAuthenticator(t, rp.Origin)
		opts, cid, err := e.svc.BeginPasskeyRegistration(ctx, sess, rp)
		if err != nil {
			t.Fatal(err)
		}
		body := auth.create(t, opts)
		if _, err := e.svc.FinishPasskeyRegistration(ctx, sess, rp, cid, " ", body); !errors.Is(err, portal.ErrName) {
			t.Fatalf("blank name: %v", err)
		}
		pk, err := e.svc.FinishPasskeyRegistration(ctx, sess, rp, cid, " Laptop ", body)
		if err != nil || pk.Name != "Laptop" || pk.ID == "" {
			t.Fatalf("register: %+v, %v", pk, err)
		}
		if _, err := e.svc.FinishPasskeyRegistration(ctx, sess, rp, cid, "Again", body); !errors.Is(err, portal.ErrCeremony) {
			t.Fatalf("ceremony used twice: %v", err)
		}
		// A second registration is told to exclude the first passkey.
		opts2, _, err := e.svc.BeginPasskeyRegistration(ctx, sess, rp)
		if err != nil || !containsString(string(opts2), pk.ID) {
			t.Fatalf("second registration's options %s, %v", opts2, err)
		}

		e.clock.Add(time.Hour)
		opts, cid, err = e.svc.BeginPasskeyLogin(ctx, rp)
		if err != nil {
			t.Fatal(err)
		}
		assertion := auth.get(t, opts)
		stok, s2, err := e.svc.FinishPasskeyLogin(ctx, rp, cid, assertion, "198.51.100.1")
		if err != nil || s2.Email != "pk@example.com" || s2.Method != portal.MethodPasskey {
			t.Fatalf("passkey sign-in: %+v, %v", s2, err)
		}
		if got, err := e.svc.Session(ctx, stok); err != nil || got.Email != "pk@example.com" {
			t.Fatalf("session %+v, %v", got, err)
		}
		if _, _, err := e.svc.FinishPasskeyLogin(ctx, rp, cid, assertion, ""); !errors.Is(err, portal.ErrCeremony) {
			t.Fatalf("replayed assertion: %v", err)
		}
		log, _, err := e.svc.Audit(ctx, "shop", "", 1)
		if err != nil || len(log) != 1 || log[0].Action != portal.ActionSignIn || log[0].Detail != portal.MethodPasskey {
			t.Fatalf("audit %+v, %v", log, err)
		}
		list, err := e.svc.Passkeys(ctx, "pk@example.com")
		if err != nil || len(list) != 1 || list[0].ID != pk.ID || !list[0].LastUsed.Equal(e.clock.Now()) {
			t.Fatalf("passkeys %+v, %v", list, err)
		}

		// Another origin, an expired ceremony, a tampered signature: refused.
		evil := *auth
		evil.origin = "https://evil.example"
		opts, cid, _ = e.svc.BeginPasskeyLogin(ctx, rp)
		if _, _, err := e.svc.FinishPasskeyLogin(ctx, rp, cid, evil.get(t, opts), ""); !errors.Is(err, portal.ErrPasskey) {
			t.Fatalf("other origin: %v", err)
		}
		opts, cid, _ = e.svc.BeginPasskeyLogin(ctx, rp)
		e.clock.Add(portal.CeremonyTTL)
		if _, _, err := e.svc.FinishPasskeyLogin(ctx, rp, cid, auth.get(t, opts), ""); !errors.Is(err, portal.ErrCeremony) {
			t.Fatalf("expired ceremony: %v", err)
		}
		stranger := newAuthenticator(t, rp.Origin)
		stranger.handle, stranger.rpID = auth.handle, auth.rpID // claims the member's handle with its own key
		opts, cid, _ = e.svc.BeginPasskeyLogin(ctx, rp)
		if _, _, err := e.svc.FinishPasskeyLogin(ctx, rp, cid, stranger.get(t, opts), ""); !errors.Is(err, portal.ErrPasskey) {
			t.Fatalf("unknown credential: %v", err)
		}

		if err := e.svc.RenamePasskey(ctx, "pk@example.com", pk.ID, "Work laptop"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RenamePasskey(ctx, "other@example.com", pk.ID, "Mine"); !errors.Is(err, portal.ErrNoPasskey) {
			t.Fatalf("rename another's passkey: %v", err)
		}
		if err := e.svc.RemovePasskey(ctx, "pk@example.com", pk.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RemovePasskey(ctx, "pk@example.com", pk.ID); !errors.Is(err, portal.ErrNoPasskey) {
			t.Fatalf("remove twice: %v", err)
		}
		opts, cid, _ = e.svc.BeginPasskeyLogin(ctx, rp)
		if _, _, err := e.svc.FinishPasskeyLogin(ctx, rp, cid, auth.get(t, opts), ""); !errors.Is(err, portal.ErrPasskey) {
			t.Fatalf("removed passkey: %v", err)
		}
	})
}

// Concurrent first registrations of one member share one user handle.
func TestPasskeyHandleOnce(t *testing.T) {
	each(t, func(t *testing.T, b ddbtest.Backend) {
		e := newEnv(t, b, "shop")
		ctx := context.Background()
		sess, err := e.svc.Session(ctx, e.join(t, "shop", "h@example.com", portal.RoleSupport))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		handles := make([]string, 8)
		for i := range handles {
			wg.Go(func() {
				opts, _, err := e.svc.BeginPasskeyRegistration(ctx, sess, rp)
				if err != nil {
					t.Error(err)
					return
				}
				a := newAuthenticator(t, rp.Origin)
				a.create(t, opts)
				handles[i] = string(a.handle)
			})
		}
		wg.Wait()
		for _, h := range handles {
			if h == "" || h != handles[0] {
				t.Fatalf("handles %q", handles)
			}
		}
	})
}

func containsString(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
