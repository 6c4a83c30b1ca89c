// Package handler implements POST /api/v1/stores/{store_slug}/licensing/fulfill/
// (with or without the trailing slash): a store's server asks for the
// license keys of a payment taken elsewhere, with a store API key as
// Bearer. It decodes, calls stores.Fulfiller.Fulfil once and answers 201
// with the order's keys, or the API's error.
package handler

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/storefront/ratelimit"
	"github.com/tollgate-dev/tollgate/shared/storefront/storeapi"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Settings (environment).
const (
	EnvRateLimit = "FULFIL_RATE_LIMIT" // requests per window (ratelimit.EnvWindow) per API key (default 100)
	EnvCacheTTL  = "STORE_CACHE_TTL"   // how long a store's listing is cached (default 5s)
)

// Handler serves fulfilments.
type Handler struct {
	f   *stores.Fulfiller
	log *slog.Logger
	now func() time.Time
}

// New builds the handler.
func New(d deps.Deps) (http.Handler, error) {
	policy, err := ratelimit.Configured(d, "fulfil", EnvRateLimit, 100)
	if err != nil {
		return nil, err
	}
	ttl, err := d.Duration(EnvCacheTTL, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &Handler{f: stores.NewFulfiller(d.Store, d.Now, stores.Options{CacheTTL: ttl, RateLimit: &policy, Logger: d.Logger}), log: d.Logger, now: d.Now}, nil
}

// Answer is the 201 body, as the contract documents it.
type Answer struct {
	OrderID string       `json:"order_id"`
	Status  string       `json:"status"`
	Items   []AnswerItem `json:"items"`
}

// AnswerItem is one line's keys.
type AnswerItem struct {
	SKU         string   `json:"sku"`
	LicenseKeys []string `json:"license_keys"`
}

// ServeHTTP fulfils. The same request again answers the same 201.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key, body, ok := storeapi.KeyedJSON(w, r, h.log, "fulfilment", BodyLimit)
	if !ok {
		return
	}
	req, err := DecodeFulfil(r.PathValue("store_slug"), body)
	if err != nil {
		storeapi.WriteFailure(w, r, h.log, "fulfilment", err)
		return
	}
	req.APIKey = key
	out, err := h.f.Fulfil(ctx, req)
	storeapi.WriteCounted(w, r, h.log, req.Store, out.Rate, out.RateErr, h.now())
	if err != nil {
		storeapi.WriteFailure(w, r, h.log, "fulfilment", err)
		return
	}
	if out.LowStockErr != nil {
		h.log.WarnContext(ctx, "low stock not announced; the next fulfilment tries again", "store", req.Store, "error", out.LowStockErr)
	}
	a := Answer{OrderID: out.Order.ID, Status: out.Order.Status, Items: make([]AnswerItem, len(out.Order.Items))}
	for i, it := range out.Order.Items {
		a.Items[i] = AnswerItem{SKU: it.SKU, LicenseKeys: it.LicenseKeys}
	}
	h.log.InfoContext(ctx, "fulfilled", "store", req.Store, "order", a.OrderID, "replayed", out.Replayed, "priceCheck", out.Order.PriceCheck)
	httpx.WriteJSON(w, http.StatusCreated, a)
}
