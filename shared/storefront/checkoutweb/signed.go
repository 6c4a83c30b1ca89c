package checkoutweb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
	"github.com/tollgate-dev/tollgate/shared/platform/webpage"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Signing purposes: a signature made for one never verifies for another.
const (
	purposeCSRF  = "checkoutweb-csrf"
	purposeCart  = "checkoutweb-cart-cookie"
	purposePay   = "checkoutweb-pay-link"
	purposeOrder = "checkoutweb-order-link"
	purposeStrip = "checkoutweb-stripe-cookie"
)

// Cookie names and lifetime. A cookie cart's limits are the cart's:
// checkout.MaxLines and checkout.MaxQuantity.
const (
	csrfCookie   = "tollgate_csrf"
	cartCookie   = "tollgate_cart"
	stripeCookie = "tollgate_pay"
	cartMaxAge   = 7 * 24 * time.Hour
)

func (p *Pages) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge time.Duration) {
	webpage.SetCookie(w, r, name, value, path, maxAge)
}

func (p *Pages) csrf() webpage.CSRF {
	return webpage.CSRF{Signer: p.signer, Cookie: csrfCookie, Purpose: purposeCSRF}
}

// csrfToken returns the form token of this browser for store.
func (p *Pages) csrfToken(w http.ResponseWriter, r *http.Request, store string) (string, error) {
	return p.csrf().Token(w, r, store)
}

// checkCSRF verifies a posted form's token against the browser's cookie.
func (p *Pages) checkCSRF(r *http.Request, store string) error { return p.csrf().Check(r, store) }

const secretLen = webpage.SecretLen

func newSecret() string { return webpage.NewSecret() }

// cookieCart is an add-to-cart cart, kept in the browser in a signed
// cookie scoped to its store's pages. Its Secret, a random nonce made with
// the cart, is the browser's alone (the cookie is HttpOnly) and goes into
// the id of the cart's order (checkout.CartRef.Secret): the order and its
// signed links cannot be made again by another browser from the cart and
// the buyer's details. Edits keep it; the same cart posted again by this
// browser (a double submit, the back button) is the same order.
type cookieCart struct {
	Currency string           `json:"c"`
	Source   string           `json:"s,omitempty"`
	Secret   string           `json:"k,omitempty"` // "" only in a cookie written before carts had one
	Lines    []checkout.Line  `json:"-"`
	Wire     [][2]interface{} `json:"l"`
}

func cartPath(store string) string { return "/s/" + store + "/" }

// readCart returns the store's cookie cart; a missing, tampered or
// malformed cookie is an empty cart.
func (p *Pages) readCart(ctx context.Context, r *http.Request, store string) cookieCart {
	c, err := r.Cookie(cartCookie)
	if err != nil {
		return cookieCart{}
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return cookieCart{}
	}
	if valid, err := p.signer.Verify(ctx, purposeCart, []byte(store+"\x00"+payload), sig); err != nil || !valid {
		return cookieCart{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return cookieCart{}
	}
	var cc cookieCart
	if err := json.Unmarshal(raw, &cc); err != nil || len(cc.Wire) > checkout.MaxLines || (cc.Secret != "" && len(cc.Secret) != secretLen) {
		return cookieCart{}
	}
	seen := map[string]bool{}
	for _, l := range cc.Wire {
		sku, _ := l[0].(string)
		q, _ := l[1].(float64)
		if !stores.ValidSKU(sku) || q != float64(int64(q)) || !checkout.ValidQuantity(int64(q)) || seen[sku] {
			return cookieCart{}
		}
		seen[sku] = true
		cc.Lines = append(cc.Lines, checkout.Line{SKU: sku, Quantity: int64(q)})
	}
	cc.Wire = nil
	return cc
}

// writeCart stores the cart in the browser's cookie for store, with a new
// secret when it has none; it answers the cart as written.
func (p *Pages) writeCart(w http.ResponseWriter, r *http.Request, store string, cc cookieCart) (cookieCart, error) {
	if cc.Secret == "" {
		cc.Secret = newSecret()
	}
	cc.Wire = make([][2]interface{}, len(cc.Lines))
	for i, l := range cc.Lines {
		cc.Wire[i] = [2]interface{}{l.SKU, l.Quantity}
	}
	raw, err := json.Marshal(cc) //nolint:gosec // G117: the browser's own cart secret goes into its signed HttpOnly cookie on purpose
	if err != nil {
		return cookieCart{}, err
	}
	payload := base64.RawURLEncoding.EncodeToString(raw)
	sig, err := p.signer.Sign(r.Context(), purposeCart, []byte(store+"\x00"+payload))
	if err != nil {
		return cookieCart{}, err
	}
	p.setCookie(w, r, cartCookie, payload+"."+sig, cartPath(store), cartMaxAge)
	cc.Wire = nil
	return cc, nil
}

// payLink is the signed address of an order's pay page.
func (p *Pages) payLink(ctx context.Context, store, orderID string, t psp.Type) (string, error) {
	sig, err := p.signer.Sign(ctx, purposePay, []byte(store+"\x00"+orderID+"\x00"+string(t)))
	if err != nil {
		return "", err
	}
	return "/s/" + store + "/pay/" + orderID + "/?" + url.Values{"psp": {string(t)}, "sig": {sig}}.Encode(), nil
}

// checkPayLink is nil when sig signs the pay page of (store, orderID,
// pspType).
func (p *Pages) checkPayLink(ctx context.Context, store, orderID, pspType, sig string) error {
	return linkError(p.signer.Verify(ctx, purposePay, []byte(store+"\x00"+orderID+"\x00"+pspType), sig))
}

// OrderLink is the signed address of an order's page (relative to the
// checkout's base URL).
func (p *Pages) OrderLink(ctx context.Context, store, orderID string) (string, error) {
	return orderLink(ctx, p.signer, store, orderID)
}

// orderLink is the order page's signed address under signer (the pages'
// and the emails').
func orderLink(ctx context.Context, signer signing.Signer, store, orderID string) (string, error) {
	sig, err := signer.Sign(ctx, purposeOrder, []byte(store+"\x00"+orderID))
	if err != nil {
		return "", err
	}
	return "/s/" + store + "/orders/" + orderID + "/?" + url.Values{"sig": {sig}}.Encode(), nil
}

// checkOrderLink is nil when sig signs the order page of (store, orderID).
func (p *Pages) checkOrderLink(ctx context.Context, store, orderID, sig string) error {
	return linkError(p.signer.Verify(ctx, purposeOrder, []byte(store+"\x00"+orderID), sig))
}

// linkError is a signed link's check as a page's error: the signer's
// error, errNotFound for a signature that does not verify (a page nobody
// was sent a link to does not exist), else nil.
func linkError(valid bool, err error) error {
	switch {
	case err != nil:
		return err
	case !valid:
		return errNotFound
	}
	return nil
}

// stripeSecrets is what the Stripe pay page needs from StartPayment, kept
// between the cart's POST and the pay page in a signed cookie scoped to
// that pay page (never in the URL, where logs and history would keep it).
type stripeSecrets struct {
	ClientSecret   string `json:"cs"`
	PublishableKey string `json:"pk"`
}

func (p *Pages) writeStripe(w http.ResponseWriter, r *http.Request, store, orderID string, s stripeSecrets) error {
	raw, _ := json.Marshal(s) //nolint:gosec // G117: a PaymentIntent's client secret is meant for the customer's browser (Stripe.js); signed, for that browser only
	payload := base64.RawURLEncoding.EncodeToString(raw)
	sig, err := p.signer.Sign(r.Context(), purposeStrip, []byte(store+"\x00"+orderID+"\x00"+payload))
	if err != nil {
		return err
	}
	p.setCookie(w, r, stripeCookie, payload+"."+sig, "/s/"+store+"/pay/"+orderID+"/", 24*time.Hour)
	return nil
}

func (p *Pages) readStripe(r *http.Request, store, orderID string) (stripeSecrets, bool) {
	c, err := r.Cookie(stripeCookie)
	if err != nil {
		return stripeSecrets{}, false
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return stripeSecrets{}, false
	}
	if valid, err := p.signer.Verify(r.Context(), purposeStrip, []byte(store+"\x00"+orderID+"\x00"+payload), sig); err != nil || !valid {
		return stripeSecrets{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return stripeSecrets{}, false
	}
	var s stripeSecrets
	if json.Unmarshal(raw, &s) != nil || s.ClientSecret == "" || s.PublishableKey == "" {
		return stripeSecrets{}, false
	}
	return s, true
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
