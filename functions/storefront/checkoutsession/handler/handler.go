// Package handler implements POST /api/v1/stores/{store_slug}/checkout/session/
// (with or without the trailing slash): a store's server asks for a
// checkout session with a store API key as Bearer. It decodes, calls
// checkout.Service.CreateSession once and answers 201 {token,
// checkout_url, expires_at}, or the store API's error.
package handler

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/storeapi"
)

// Handler serves session creation.
type Handler struct {
	svc *checkout.Service
	log *slog.Logger
	now func() time.Time
}

// New builds the handler.
func New(d deps.Deps) (http.Handler, error) {
	svc, err := checkout.Open(context.Background(), d)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, log: d.Logger, now: d.Now}, nil
}

// Answer is the 201 body, as the contract documents it.
type Answer struct {
	Token       string `json:"token"`
	CheckoutURL string `json:"checkout_url"`
	ExpiresAt   string `json:"expires_at"`
}

// ServeHTTP creates a session.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key, body, ok := storeapi.KeyedJSON(w, r, h.log, "checkout session", BodyLimit)
	if !ok {
		return
	}
	req, err := DecodeSession(r.PathValue("store_slug"), body)
	if err != nil {
		storeapi.WriteFailure(w, r, h.log, "checkout session", err)
		return
	}
	req.APIKey, req.Origin = key, httpx.RequestOrigin(r)
	out, err := h.svc.CreateSession(ctx, req)
	storeapi.WriteCounted(w, r, h.log, req.Store, out.Rate, out.RateErr, h.now())
	if err != nil {
		storeapi.WriteFailure(w, r, h.log, "checkout session", err)
		return
	}
	h.log.InfoContext(ctx, "checkout session created", "store", req.Store, "expiresAt", out.ExpiresAt)
	httpx.WriteJSON(w, http.StatusCreated, Answer{Token: out.Token, CheckoutURL: out.CheckoutURL, ExpiresAt: out.ExpiresAt.UTC().Format(time.RFC3339)})
}
