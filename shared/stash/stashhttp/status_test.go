package stashhttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/contract"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
	"github.com/tollgate-dev/tollgate/shared/stash/purchase"
	"github.com/tollgate-dev/tollgate/shared/stash/stashhttp"
)

// TestRefusalAnswers pins the one mapping of domain refusals to Stash's
// rpcStatus answers, and checks every answer against the contract's rpcStatus.
func TestRefusalAnswers(t *testing.T) {
	schema := contract.MustLoad(t)
	sig := auth.StashSignatures{Keys: auth.Keys{Source: secrets.Static{secrets.StashEgressKey: key}}, AllowLegacy: true, AllowLegacyLookups: true, Now: func() time.Time { return now }}
	tests := []struct {
		reason     error
		status     int
		code       int
		retryLater bool // not a refusal: the store failed
	}{
		{purchase.ErrAlreadyConfirmed, 409, 6, false},
		{purchase.ErrRefunded, 409, 9, false},
		{purchase.ErrOtherPlayer, 409, 9, false},
		{purchase.ErrItemsMismatch, 409, 9, false},
		{purchase.ErrUnknownProducts, 409, 9, false},
		{purchase.ErrLimitReached, 409, 9, false},
		{purchase.ErrSoldOut, 409, 9, false},
		{catalog.ErrNoProduct, 404, 5, false},
		{catalog.ErrGUIDMismatch, 404, 5, false},
		{catalog.ErrNotPriced, 400, 3, false},
		{players.ErrNoProfile, 404, 5, false},
		{errors.New("a reason no table lists"), 409, 9, false},
		{errors.New("dynamodb: throttled"), 503, 14, true},
	}
	for _, tt := range tests {
		t.Run(tt.reason.Error(), func(t *testing.T) {
			fail := fmt.Errorf("step: %w", refusal.New(tt.reason, "refused because %s", tt.reason))
			if tt.retryLater {
				fail = tt.reason
			}
			h := stashhttp.HandleQuery(sig, slog.New(slog.NewTextHandler(io.Discard, nil)),
				func(url.Values) (string, error) { return "", nil },
				func(context.Context, string) (string, error) { return "", fail })
			req := httptest.NewRequest("GET", "/x?id=1", nil)
			req.Header.Set(auth.HeaderStashLegacySignature, auth.SignStashLegacy([]byte(key), nil))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if err := schema.ValidateComponent("rpcStatus", rec.Body.Bytes()); err != nil {
				t.Error(err)
			}
			want := fmt.Sprintf(`{"code":%d,"message":"refused because %s","details":[]}`, tt.code, tt.reason)
			if tt.retryLater {
				want = `{"code":14,"message":"temporarily unavailable; nothing changed; retry","details":[]}`
			}
			if rec.Body.String() != want {
				t.Errorf("body %s, want %s", rec.Body, want)
			}
		})
	}
}
