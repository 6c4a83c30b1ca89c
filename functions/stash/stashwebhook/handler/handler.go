// Package handler implements Stash's webhook receiver,
// POST /api/v1/webhooks/stash: it verifies the delivery's signature and
// hands it to purchase.Webhooks, which grants, revokes or acknowledges it and
// records it for reconciliation. It answers 200 {"status": outcome} for a
// delivery processed, duplicate or ignored; 400 {"error"} for a body that
// cannot be decoded; 401 for a bad signature; 503 when a retry could
// succeed.
package handler

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/stash/purchase"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

// headerRetryCount is Stash's count of earlier attempts of a delivery.
const headerRetryCount = "stash-retry-count"

// New builds the handler from its dependencies.
func New(d deps.Deps) (http.Handler, error) {
	hooks, err := purchase.NewWebhooks(d)
	if err != nil {
		return nil, err
	}
	verify := auth.StashWebhooks{Keys: auth.Keys{Source: d.Secrets}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		body, err := httpx.ReadBody(r, stashapi.WebhookBodyLimit)
		if err != nil {
			httpx.WriteRequestError(w, err)
			return
		}
		if err := verify.Verify(ctx, r.Header, body); err != nil {
			if errors.Is(err, auth.ErrUnauthorized) {
				d.Logger.WarnContext(ctx, "webhook signature refused", "reason", err.Error())
				httpx.WriteError(w, http.StatusUnauthorized, "Unauthorized")
				return
			}
			d.Logger.Log(ctx, failure.Level(ctx, err), "webhook secret unavailable", "error", err)
			httpx.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable; retry")
			return
		}
		retry, _ := strconv.Atoi(r.Header.Get(headerRetryCount))
		outcome, err := hooks.Receive(ctx, body, retry)
		var refused *refusal.Error
		switch {
		case err == nil:
			httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": outcome})
		case errors.As(err, &refused):
			httpx.WriteError(w, http.StatusBadRequest, refused.Message)
		default:
			httpx.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable; retry")
		}
	}), nil
}
