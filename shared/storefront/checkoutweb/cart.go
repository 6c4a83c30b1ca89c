package checkoutweb

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/geo"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// SourceMarketplace marks a cart that came from /market/.
const SourceMarketplace = "marketplace"

const maxForm = 16 << 10 // bytes of a posted form

// cartPage is the cart template's data.
type cartPage struct {
	Action       string
	Token        string
	Quote        checkout.Quote
	Empty        bool
	Editable     bool // a cookie cart: its lines can be changed and removed
	Expires      string
	Message      string // a refusal's own words
	MessageKey   string // or a text of the page's language
	Invalid      string // the field the message is about: email, country or subdivision
	Email        string
	Country      string
	Subdivision  string
	Countries    []Country
	Subdivisions []geo.Subdivision
}

// Cart serves GET and POST /s/{store_slug}/cart/.
func (p *Pages) Cart() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		store := r.PathValue("store_slug")
		if !stores.ValidSlug(store) {
			p.fail(w, r, localeFor(r, ""), "cart", errNotFound)
			return
		}
		switch r.Method {
		case http.MethodPost:
			p.cartPost(w, r, store)
		default:
			p.cartGet(w, r, store)
		}
	})
}

func (p *Pages) cartGet(w http.ResponseWriter, r *http.Request, store string) {
	q := r.URL.Query()
	l := localeFor(r, "")
	token, err := one(q, "token")
	if err != nil {
		p.fail(w, r, l, "cart", err)
		return
	}
	add := q.Has("add") || q.Has("items")
	switch {
	case token != "" && add:
		p.fail(w, r, l, "cart", badInput("a checkout link (token) cannot be combined with add or items"))
		return
	case token != "":
		p.showCart(w, r, http.StatusOK, checkout.CartRef{Store: store, Token: token}, cartPage{})
		return
	case add:
		cc, err := p.addToCart(r, store, q)
		if err != nil {
			p.fail(w, r, l, "cart", err)
			return
		}
		if _, err := p.writeCart(w, r, store, cc); err != nil {
			p.fail(w, r, l, "cart", err)
			return
		}
		// Post/redirect/get: reloading the cart does not add again.
		http.Redirect(w, r, "/s/"+store+"/cart/", http.StatusSeeOther) //nolint:gosec // G710: a path of this site (it starts with /s/)
		return
	}
	cc := p.readCart(r.Context(), r, store)
	if len(cc.Lines) > 0 && cc.Secret == "" {
		// A cart from before carts had a secret gets one before its form
		// is shown, so the form's posts (and their retries) share it.
		if _, err := p.writeCart(w, r, store, cc); err != nil {
			p.fail(w, r, l, "cart", err)
			return
		}
	}
	p.showCart(w, r, http.StatusOK, checkout.CartRef{Store: store, Lines: cc.Lines, Currency: cc.Currency, Source: cc.Source}, cartPage{})
}

// addToCart adds an add-to-cart link's SKUs to the browser's cart: the
// same SKU again adds quantity.
func (p *Pages) addToCart(r *http.Request, store string, q url.Values) (cookieCart, error) {
	lines, currency, source, err := ParseAdd(q)
	if err != nil {
		return cookieCart{}, err
	}
	cc := p.readCart(r.Context(), r, store)
	if currency == "" {
		currency = cc.Currency
	}
	if currency == "" {
		return cookieCart{}, badInput("the link must name a currency, such as &currency=GBP")
	}
	cc.Currency = currency
	if source != "" {
		cc.Source = source
	}
	for _, l := range lines {
		i := 0
		for i < len(cc.Lines) && cc.Lines[i].SKU != l.SKU {
			i++
		}
		if i == len(cc.Lines) {
			if len(cc.Lines) == checkout.MaxLines {
				return cookieCart{}, badInput(fmt.Sprintf("a cart holds at most %d different products", checkout.MaxLines))
			}
			cc.Lines = append(cc.Lines, checkout.Line{SKU: l.SKU})
		}
		cc.Lines[i].Quantity += l.Quantity
		if cc.Lines[i].Quantity > checkout.MaxQuantity {
			return cookieCart{}, badInput(fmt.Sprintf("a cart holds at most %d of %s", checkout.MaxQuantity, l.SKU))
		}
	}
	return cc, nil
}

// ParseAdd reads an add-to-cart link's query: add=SKU (one unit) and/or
// items=SKU:QTY,SKU:QTY, currency (ISO 4217) and source (marketplace).
func ParseAdd(q url.Values) (lines []checkout.Line, currency, source string, err error) {
	add, err := one(q, "add")
	if err != nil {
		return nil, "", "", err
	}
	items, err := one(q, "items")
	if err != nil {
		return nil, "", "", err
	}
	if currency, err = one(q, "currency"); err != nil {
		return nil, "", "", err
	}
	if source, err = one(q, "source"); err != nil {
		return nil, "", "", err
	}
	if source != "" && source != SourceMarketplace {
		return nil, "", "", badInput(fmt.Sprintf("source must be %q", SourceMarketplace))
	}
	if currency != "" {
		currency = strings.ToUpper(currency)
		if len(currency) != 3 || strings.Trim(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return nil, "", "", badInput(fmt.Sprintf("currency must be an ISO 4217 code such as GBP, got %q", clip(currency)))
		}
	}
	counts := map[string]int64{}
	var order []string
	put := func(sku string, qty int64) error {
		if !stores.ValidSKU(sku) {
			return badInput(fmt.Sprintf("%q is not a product SKU", clip(sku)))
		}
		if _, seen := counts[sku]; !seen {
			order = append(order, sku)
		}
		counts[sku] += qty
		if counts[sku] > checkout.MaxQuantity {
			return badInput(fmt.Sprintf("at most %d of %s per order", checkout.MaxQuantity, sku))
		}
		return nil
	}
	if q.Has("add") {
		if err := put(add, 1); err != nil {
			return nil, "", "", err
		}
	}
	if q.Has("items") {
		parts := strings.Split(items, ",")
		if len(parts) > checkout.MaxLines {
			return nil, "", "", badInput(fmt.Sprintf("the items list names more than %d products", checkout.MaxLines))
		}
		for _, part := range parts {
			sku, n, ok := strings.Cut(part, ":")
			qty, err := strconv.ParseInt(n, 10, 64)
			if !ok || err != nil || !checkout.ValidQuantity(qty) {
				return nil, "", "", badInput(fmt.Sprintf("the items list must read SKU:QUANTITY,SKU:QUANTITY with quantities 1 to %d; %q is not", checkout.MaxQuantity, clip(part)))
			}
			if err := put(sku, qty); err != nil {
				return nil, "", "", err
			}
		}
	}
	for _, sku := range order {
		lines = append(lines, checkout.Line{SKU: sku, Quantity: counts[sku]})
	}
	return lines, currency, source, nil
}

// one reads a query parameter given at most once.
func one(q url.Values, name string) (string, error) {
	switch v := q[name]; len(v) {
	case 0:
		return "", nil
	case 1:
		return v[0], nil
	default:
		return "", badInput(fmt.Sprintf("%s is given %d times", name, len(v)))
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// showCart renders the cart of ref, with the form's values in page.
func (p *Pages) showCart(w http.ResponseWriter, r *http.Request, status int, ref checkout.CartRef, page cartPage) {
	buyer := checkout.Buyer{Country: page.Country, Subdivision: page.Subdivision}
	quote, err := p.svc.Quote(r.Context(), ref, buyer)
	if err != nil {
		if ref.Token != "" || len(ref.Lines) > 0 || !errors.Is(err, checkout.ErrInvalid) {
			p.fail(w, r, localeFor(r, ""), "cart", err)
			return
		}
		quote = checkout.Quote{StoreSlug: ref.Store} // an empty cookie cart
	}
	l := localeFor(r, quote.Locale)
	csrf, err := p.csrfToken(w, r, ref.Store)
	if err != nil {
		p.fail(w, r, l, "cart", err)
		return
	}
	page.Action = "/s/" + ref.Store + "/cart/"
	page.Token = ref.Token
	page.Quote = quote
	page.Empty = len(quote.Lines) == 0
	// A session's cart is the shop's; a cookie cart is the customer's own,
	// including lines that cannot be sold (so they can be taken out).
	page.Editable = ref.Token == "" && (len(quote.Lines) > 0 || len(quote.Problems) > 0)
	if !quote.ExpiresAt.IsZero() {
		page.Expires = quote.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	page.Countries = l.Countries()
	if quote.NeedsSubdivision || page.Subdivision != "" {
		page.Subdivisions = geo.Subdivisions(page.Country)
	}
	name := quote.StoreName
	if name == "" {
		name = ref.Store
	}
	p.render(w, r, status, "cart", view{L: l, Title: l.T("cart"), CSRF: csrf, Store: name, Page: page}, policy{})
}

func (p *Pages) cartPost(w http.ResponseWriter, r *http.Request, store string) {
	l := localeFor(r, "")
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, l, "cart", badInput("the form could not be read"))
		return
	}
	if err := p.checkCSRF(r, store); err != nil {
		p.fail(w, r, l, "cart", err)
		return
	}
	f := r.PostForm
	if f.Get("edit") != "" {
		p.editCart(w, r, store, f)
		return
	}
	ref := checkout.CartRef{Store: store, Token: f.Get("token")}
	if ref.Token == "" {
		cc := p.readCart(r.Context(), r, store)
		if len(cc.Lines) > 0 && cc.Secret == "" {
			var err error
			if cc, err = p.writeCart(w, r, store, cc); err != nil {
				p.fail(w, r, l, "cart", err)
				return
			}
		}
		ref.Lines, ref.Currency, ref.Source, ref.Secret = cc.Lines, cc.Currency, cc.Source, cc.Secret
	}
	page := cartPage{Email: strings.TrimSpace(f.Get("email")), Country: strings.ToUpper(strings.TrimSpace(f.Get("country"))), Subdivision: strings.ToUpper(strings.TrimSpace(f.Get("subdivision")))}
	if key := checkBuyer(&page); key != "" {
		page.MessageKey = key
		page.Invalid = map[string]string{"bad_email": "email", "bad_country": "country", "bad_subdivision": "subdivision"}[key]
		p.showCart(w, r, http.StatusBadRequest, ref, page)
		return
	}
	buyer := checkout.Buyer{Email: page.Email, Country: page.Country, Subdivision: page.Subdivision}
	pay, err := p.svc.StartPayment(r.Context(), ref, buyer)
	switch {
	case errors.Is(err, checkout.ErrNeedsSubdivision):
		// Without JavaScript the subdivision list appears once the country
		// is known and its tax needs one: the form again, with the list.
		page.MessageKey, page.Invalid = "subdivision_needed", "subdivision"
		p.showCart(w, r, http.StatusOK, ref, page)
		return
	case errors.Is(err, checkout.ErrInvalid):
		page.Message = err.Error()
		p.showCart(w, r, http.StatusBadRequest, ref, page)
		return
	case err != nil:
		p.fail(w, r, l, "cart", err)
		return
	}
	if pay.PSP == psp.Stripe {
		if err := p.writeStripe(w, r, store, pay.OrderID, stripeSecrets{ClientSecret: pay.ClientSecret, PublishableKey: pay.PublishableKey}); err != nil {
			p.fail(w, r, l, "cart", err)
			return
		}
	}
	link, err := p.payLink(r.Context(), store, pay.OrderID, pay.PSP)
	if err != nil {
		p.fail(w, r, l, "cart", err)
		return
	}
	http.Redirect(w, r, link, http.StatusSeeOther) //nolint:gosec // G710: the pay link payLink signed, of this site
}

// checkBuyer checks the form's email, country and subdivision, returning
// the key of what to tell the customer ("" when they are usable).
func checkBuyer(page *cartPage) string {
	at := strings.LastIndexByte(page.Email, '@')
	if len(page.Email) > 254 || at < 1 || at == len(page.Email)-1 || strings.ContainsAny(page.Email, " \t\r\n<>") {
		return "bad_email"
	}
	country, err := geo.Country("country", page.Country)
	if err != nil {
		page.Country = ""
		return "bad_country"
	}
	page.Country = country
	if page.Subdivision != "" {
		for _, s := range geo.Subdivisions(country) {
			if s.Code == page.Subdivision {
				return ""
			}
		}
		page.Subdivision = ""
		return "bad_subdivision"
	}
	return ""
}

// editCart applies the cart page's edit form to the browser's cookie cart,
// then post/redirect/get, so a reload changes nothing again. A bad
// quantity is the cart again with a message, nothing changed.
func (p *Pages) editCart(w http.ResponseWriter, r *http.Request, store string, f url.Values) {
	cc := p.readCart(r.Context(), r, store)
	lines, err := EditLines(cc.Lines, f)
	if err != nil {
		ref := checkout.CartRef{Store: store, Lines: cc.Lines, Currency: cc.Currency, Source: cc.Source}
		p.showCart(w, r, http.StatusBadRequest, ref, cartPage{MessageKey: "bad_quantity"})
		return
	}
	cc.Lines = lines
	if _, err := p.writeCart(w, r, store, cc); err != nil {
		p.fail(w, r, localeFor(r, ""), "cart", err)
		return
	}
	http.Redirect(w, r, "/s/"+store+"/cart/", http.StatusSeeOther) //nolint:gosec // G710: a path of this site (it starts with /s/)
}

// EditLines reads the cart page's edit form over lines: each line's
// quantity field qty.<SKU> (0 takes the line out) and one line's remove
// button (remove=<SKU>). Fields of SKUs not in lines are ignored: an edit
// never adds. A quantity that is not one whole number from 0 to
// checkout.MaxQuantity is a badRequest.
func EditLines(lines []checkout.Line, f url.Values) ([]checkout.Line, error) {
	remove := f.Get("remove")
	kept := make([]checkout.Line, 0, len(lines))
	for _, l := range lines {
		if v, given := f["qty."+l.SKU]; given {
			n, err := strconv.ParseInt(strings.TrimSpace(v[0]), 10, 64)
			if len(v) != 1 || err != nil || n < 0 || n > checkout.MaxQuantity {
				return nil, badInput(fmt.Sprintf("the quantity of %s must be a whole number from 0 to %d", l.SKU, checkout.MaxQuantity))
			}
			l.Quantity = n
		}
		if l.SKU != remove && l.Quantity > 0 {
			kept = append(kept, l)
		}
	}
	return kept, nil
}
