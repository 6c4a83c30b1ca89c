// Package handler implements GET /api/v1/stores/{store_slug}/orders/{order_id}/
// (with or without the trailing slash): a store reads one of its orders,
// keys included, with a store API key as Bearer.
package handler

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/storefront/storeapi"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

// Handler serves order reads.
type Handler struct {
	f   *stores.Fulfiller
	log *slog.Logger
}

// New builds the handler.
func New(d deps.Deps) (http.Handler, error) {
	return &Handler{f: stores.NewFulfiller(d.Store, d.Now, stores.Options{Logger: d.Logger}), log: d.Logger}, nil
}

// Answer is an order.
type Answer struct {
	OrderID            string    `json:"order_id"`
	Status             string    `json:"status"`
	ExternalReference  string    `json:"external_reference"`
	CustomerEmail      string    `json:"customer_email,omitempty"`
	Currency           string    `json:"currency"`
	TotalMinor         int64     `json:"total_minor"`
	ExpectedTotalMinor *int64    `json:"expected_total_minor"`
	PriceCheck         string    `json:"price_check"`
	Items              []Item    `json:"items"`
	Fulfilled          bool      `json:"fulfilled"`      // its keys were allocated (never, for a checkout order refunded, cancelled or disputed before its payment succeeded)
	RefundedMinor      int64     `json:"refunded_minor"` // refunded so far
	DisputeStatus      string    `json:"dispute_status,omitempty"`
	CreatedAt          string    `json:"created_at"`
	UpdatedAt          string    `json:"updated_at"`
	Payment            *struct{} `json:"payment"`
	Tax                *Tax      `json:"tax,omitempty"` // a checkout order's; absent for the licensing API's
}

// Tax is how a checkout order's total was made, as recorded with it.
type Tax struct {
	SubtotalMinor int64       `json:"subtotal_minor"`
	TaxMinor      int64       `json:"tax_minor"`
	Included      bool        `json:"included"`
	Rate          tax.Decimal `json:"rate"`
	Label         string      `json:"label"`
}

// Item is an order line.
type Item struct {
	SKU            string   `json:"sku"`
	Quantity       int64    `json:"quantity"`
	UnitPriceMinor *int64   `json:"unit_price_minor"`
	LicenseKeys    []string `json:"license_keys"`
}

// ServeHTTP answers the order.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := auth.BearerToken(r)
	if stores.KeyMode(key) == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
		storeapi.WriteError(w, http.StatusUnauthorized, storeapi.CodeUnauthorized, "missing or malformed store API key (Authorization: Bearer sk_live_... or sk_test_...)")
		return
	}
	slug, id := r.PathValue("store_slug"), r.PathValue("order_id")
	if err := stores.CheckSlugParam(slug); err != nil {
		storeapi.WriteFailure(w, r, h.log, "order read", err)
		return
	}
	if !stores.ValidOrderID(id) {
		storeapi.WriteFailure(w, r, h.log, "order read", decode.Errorf("path parameter %q must be an order id such as ORD-0123456789AB, got %q", "order_id", decode.Truncate(id, 64)))
		return
	}
	o, err := h.f.Order(r.Context(), slug, key, id)
	if err != nil {
		storeapi.WriteFailure(w, r, h.log, "order read", err)
		return
	}
	a := Answer{OrderID: o.ID, Status: o.Status, ExternalReference: o.ExternalReference, CustomerEmail: o.CustomerEmail,
		Currency: o.Currency, TotalMinor: o.TotalMinor, ExpectedTotalMinor: o.ExpectedTotalMinor, PriceCheck: o.PriceCheck,
		Fulfilled: o.Fulfilled, RefundedMinor: o.RefundedMinor, DisputeStatus: o.Dispute,
		CreatedAt: o.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: o.UpdatedAt.UTC().Format(time.RFC3339), Items: make([]Item, len(o.Items))}
	if o.Tax != nil {
		a.Tax = &Tax{SubtotalMinor: o.Tax.SubtotalMinor, TaxMinor: o.Tax.TaxMinor, Included: o.Tax.Included, Rate: o.Tax.Rate, Label: o.Tax.Label}
	}
	for i, it := range o.Items {
		// [] rather than null: an order not fulfilled has no keys.
		a.Items[i] = Item{SKU: it.SKU, Quantity: it.Quantity, UnitPriceMinor: it.UnitPriceMinor, LicenseKeys: append([]string{}, it.LicenseKeys...)}
	}
	httpx.WriteJSON(w, http.StatusOK, a)
}
