package checkout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/stripemock"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/money"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

// intents records the amount and currency of each PaymentIntent the
// checkout asks Stripe for (by the order in its metadata), on its way to
// stripe-mock.
type intents struct {
	mu  sync.Mutex
	got map[string]url.Values
}

func (r *intents) proxy(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		if req.Method == http.MethodPost && req.URL.Path == "/v1/payment_intents" {
			form, _ := url.ParseQuery(string(body))
			r.mu.Lock()
			r.got[form.Get("metadata["+checkout.MetaOrder+"]")] = form
			r.mu.Unlock()
		}
		rp.ServeHTTP(w, req)
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// expectedTax is the oracle: the buyer's rate from the data (country plus
// subdivision) as a big.Rat, the part of the subtotal that is tax, rounded
// half up once on the order.
func expectedTax(sub int64, country, subdivision string, included bool) int64 {
	c := tax.Data.Countries[country]
	rate := new(big.Rat)
	if c.Type != "none" {
		if r, ok := new(big.Rat).SetString(string(c.Rate)); ok && r.Sign() > 0 {
			rate.Add(rate, r)
		}
	}
	if s, ok := c.Subdivisions[subdivision]; ok {
		r, _ := new(big.Rat).SetString(string(s.Rate))
		rate.Add(rate, r)
	}
	x := new(big.Rat).Mul(new(big.Rat).SetInt64(sub), rate)
	if included {
		x.Quo(x, new(big.Rat).Add(big.NewRat(1, 1), rate))
	}
	x.Add(x, big.NewRat(1, 2))
	return new(big.Int).Quo(x.Num(), x.Denom()).Int64()
}

// TestDifferentialTotals: 1,000 random carts (random products, quantities,
// currencies — JPY's exponent 0 among them — and buyers from every country
// of the tax data, with a subdivision where it has them) in two stores,
// one whose prices include tax and one whose prices exclude it. For each,
// the cart page's quote, the order as recorded, the amount of the Stripe
// PaymentIntent requested (stripe-mock, through a recording proxy) and the
// order.created event agree with each other and with exact big.Rat
// half-up rounding.
func TestDifferentialTotals(t *testing.T) {
	stripemock.Require(t, mockURL)
	rec := &intents{got: map[string]url.Values{}}
	base := rec.proxy(t, mockURL)
	e := newEnv(t, ddbtest.Backends(t)[0], ddbtest.StackOptions{Env: map[string]string{"CHECKOUT_STRIPE_SECRET_KEY": "sk_test_platform",
		"CHECKOUT_STRIPE_PUBLISHABLE_KEY": "pk_test_platform", "STRIPE_API_BASE": base}})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(24, 1000))
	currencies := []string{"GBP", "EUR", "USD", "JPY"}
	yes, no := true, false
	var products []stores.FileProduct
	for i := range 8 {
		prices := map[string]int64{}
		for _, c := range currencies {
			prices[c] = rng.Int64N(2_000_000) + 1 // up to 20,000.00 (or ¥2,000,000)
		}
		products = append(products, stores.FileProduct{SKU: fmt.Sprintf("SKU-%d", i), Name: fmt.Sprintf("Product %d", i), Prices: prices})
	}
	f := stores.File{Stores: []stores.FileStore{
		{Slug: "incl", Name: "Included", APIKeys: []string{"sk_test_incl_store_1"}, PricesIncludeTax: &yes, Products: products},
		{Slug: "excl", Name: "Excluded", APIKeys: []string{"sk_test_excl_store_1"}, PricesIncludeTax: &no, Products: products},
	}}
	admin := stores.Admin{DB: e.Stack.DB, Table: e.Tables.Stores, Now: func() time.Time { return now }}
	if _, err := admin.Import(ctx, f); err != nil {
		t.Fatal(err)
	}
	var countries []string
	for code := range tax.Data.Countries {
		countries = append(countries, code)
	}
	sort.Strings(countries)

	type placed struct {
		store, currency string
		total, tax, sub int64
		included        bool
	}
	orders := map[string]placed{}
	const carts = 1000
	for i := range carts {
		store, included := "excl", false
		if i%2 == 0 {
			store, included = "incl", true
		}
		cur := currencies[rng.IntN(len(currencies))]
		country := countries[rng.IntN(len(countries))]
		sub := ""
		if subs := tax.Data.Countries[country].Subdivisions; len(subs) > 0 {
			codes := make([]string, 0, len(subs))
			for code := range subs {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			sub = codes[rng.IntN(len(codes))]
		}
		var lines []checkout.Line
		var subtotal int64
		for _, j := range rng.Perm(len(products))[:1+rng.IntN(3)] {
			q := 1 + rng.Int64N(checkout.MaxQuantity)
			lines = append(lines, checkout.Line{SKU: products[j].SKU, Quantity: q})
			subtotal += products[j].Prices[cur] * q
		}
		cart := checkout.CartRef{Store: store, Lines: lines, Currency: cur, Secret: fmt.Sprintf("differential-secret-%06d", i)}
		buyer := checkout.Buyer{Email: "buyer@example.com", Country: country, Subdivision: sub}
		wantTax := expectedTax(subtotal, country, sub, included)
		wantTotal := subtotal + wantTax
		if included {
			wantTotal = subtotal
		}
		q, err := e.cart.Quote(ctx, cart, buyer)
		if err != nil {
			t.Fatalf("cart %d: %v", i, err)
		}
		if q.SubtotalMinor != subtotal || q.TaxMinor != wantTax || q.TotalMinor != wantTotal || q.TaxIncluded != included {
			t.Fatalf("cart %d (%s %s %s-%s): quote %d/%d/%d included %v; exactly %d/%d/%d", i, store, cur, country, sub,
				q.SubtotalMinor, q.TaxMinor, q.TotalMinor, q.TaxIncluded, subtotal, wantTax, wantTotal)
		}
		p, err := e.cart.StartPayment(ctx, cart, buyer)
		if err != nil {
			t.Fatalf("cart %d: %v", i, err)
		}
		if p.Quote.TotalMinor != wantTotal {
			t.Fatalf("cart %d: payment of %d, quoted %d", i, p.Quote.TotalMinor, wantTotal)
		}
		orders[p.OrderID] = placed{store: store, currency: cur, total: wantTotal, tax: wantTax, sub: subtotal, included: included}
		v, err := e.order.Order(ctx, store, p.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		if v.TotalMinor != wantTotal || !v.AmountsKnown || v.Amounts != (tax.Amounts{SubtotalMinor: subtotal, TaxMinor: wantTax, TotalMinor: wantTotal, Included: included}) {
			t.Fatalf("cart %d: order %s amounts %+v total %d; quoted %d/%d/%d", i, p.OrderID, v.Amounts, v.TotalMinor, subtotal, wantTax, wantTotal)
		}
	}
	// Stripe was asked for exactly each order's total, in its currency.
	rec.mu.Lock()
	for id, o := range orders {
		form, ok := rec.got[id]
		if !ok {
			t.Fatalf("no PaymentIntent was created for %s", id)
		}
		if form.Get("amount") != strconv.FormatInt(o.total, 10) || form.Get("currency") != strings.ToLower(o.currency) {
			t.Fatalf("order %s: PaymentIntent amount %s %s, order total %d %s", id, form.Get("amount"), form.Get("currency"), o.total, o.currency)
		}
	}
	rec.mu.Unlock()
	// The events say the same.
	seen := 0
	for _, store := range []string{"incl", "excl"} {
		evs, err := outbox.Box{DB: e.st.DB, Table: e.st.Tables.Outbox}.List(ctx, dynamo.Tuple("store", store), "", 10*carts)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Type != "order.created" {
				continue
			}
			var pl struct {
				OrderID  string `json:"order_id"`
				Total    int64  `json:"total_minor"`
				Subtotal int64  `json:"subtotal_minor"`
				Tax      int64  `json:"tax_minor"`
				Included bool   `json:"tax_included"`
				Currency string `json:"currency"`
			}
			if err := json.Unmarshal(ev.Payload, &pl); err != nil {
				t.Fatal(err)
			}
			o := orders[pl.OrderID]
			if pl.Total != o.total || pl.Subtotal != o.sub || pl.Tax != o.tax || pl.Included != o.included || pl.Currency != o.currency {
				t.Fatalf("event %s: %+v; order %+v", ev.ID, pl, o)
			}
			seen++
		}
	}
	if seen != carts || len(orders) != carts {
		t.Fatalf("%d order.created events, %d orders, for %d carts", seen, len(orders), carts)
	}
	t.Logf("%d carts (%d in each mode): quote, order, PaymentIntent amount and order.created agree with exact half-up rounding", carts, carts/2)
}

// A currency the PSP cannot charge in the ISO 4217 minor units the order
// is kept in is refused when the session is created (400, naming the
// currency and why); the sandbox takes any ISO 4217 currency, KWD's three
// decimals included.
func TestSessionCurrencyThePSPTakes(t *testing.T) {
	stripemock.Require(t, mockURL)
	ctx := context.Background()
	prices := map[string]int64{"KWD": 12345, "ISK": 5000, "JPY": 1500, "MGA": 100000}
	importShop := func(e *env) {
		admin := stores.Admin{DB: e.Stack.DB, Table: e.Tables.Stores, Now: func() time.Time { return now }}
		f := stores.File{Stores: []stores.FileStore{{Slug: "kw", Name: "Kuwait", APIKeys: []string{"sk_test_kuwait_store_1"},
			Products: []stores.FileProduct{{SKU: "APP", Name: "App", Prices: prices}}}}}
		if _, err := admin.Import(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	session := func(e *env, cur string) error {
		_, err := e.sessions.CreateSession(ctx, checkout.SessionRequest{Store: "kw", APIKey: "sk_test_kuwait_store_1", Cart: map[string]int64{"APP": 1}, Currency: cur})
		return err
	}
	b := ddbtest.Backends(t)[0]
	withStripe := newEnv(t, b, ddbtest.StackOptions{Env: map[string]string{"CHECKOUT_STRIPE_SECRET_KEY": "sk_test_platform",
		"CHECKOUT_STRIPE_PUBLISHABLE_KEY": "pk_test_platform", "STRIPE_API_BASE": mockURL}})
	importShop(withStripe)
	for cur, want := range map[string]string{
		"KWD": "multiples of 10 minor units", "ISK": "whole krónur", "MGA": "zero-decimal",
	} {
		err := session(withStripe, cur)
		var de *decode.Error
		if !errors.As(err, &de) || !strings.Contains(err.Error(), cur) || !strings.Contains(err.Error(), want) {
			t.Errorf("Stripe session in %s: %v; want a 400 saying %q", cur, err, want)
		}
	}
	if err := session(withStripe, "JPY"); err != nil {
		t.Errorf("Stripe session in JPY: %v", err)
	}
	sandbox := newEnv(t, b, ddbtest.StackOptions{})
	importShop(sandbox)
	if err := session(sandbox, "KWD"); err != nil {
		t.Errorf("sandbox session in KWD: %v", err)
	}
	// A cookie cart in a currency Stripe cannot take places no order.
	_, err := withStripe.cart.StartPayment(ctx, checkout.CartRef{Store: "kw", Lines: []checkout.Line{{SKU: "APP", Quantity: 1}}, Currency: "KWD",
		Secret: "a-browser-secret-of-22-chars"}, checkout.Buyer{Email: "buyer@example.com", Country: "KW"})
	if !errors.Is(reason(err), checkout.ErrInvalid) || !strings.Contains(err.Error(), "KWD") {
		t.Errorf("cookie cart in KWD with Stripe: %v", err)
	}
	// Currencies ISO 4217 does not define are refused as before.
	var de *decode.Error
	if err := session(sandbox, "XXX"); !errors.As(err, &de) {
		t.Errorf("session in XXX: %v", err)
	}
}

// A cart whose total would pass the largest amount (2^53-1 minor units)
// is refused (400), never wrapped around.
func TestQuoteAboveTheLargestAmount(t *testing.T) {
	e := newEnv(t, ddbtest.Backends(t)[0], ddbtest.StackOptions{})
	ctx := context.Background()
	admin := stores.Admin{DB: e.Stack.DB, Table: e.Tables.Stores, Now: func() time.Time { return now }}
	f := stores.File{Stores: []stores.FileStore{{Slug: "big", Name: "Big", APIKeys: []string{"sk_test_big_store_1"},
		Products: []stores.FileProduct{{SKU: "A", Name: "A", Prices: map[string]int64{"USD": money.MaxMinor}}, {SKU: "B", Name: "B", Prices: map[string]int64{"USD": money.MaxMinor}}}}}}
	if _, err := admin.Import(ctx, f); err != nil {
		t.Fatal(err)
	}
	for _, lines := range [][]checkout.Line{{{SKU: "A", Quantity: 100}, {SKU: "B", Quantity: 100}}, {{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 1}}} {
		_, err := e.cart.Quote(ctx, checkout.CartRef{Store: "big", Lines: lines, Currency: "USD"}, checkout.Buyer{})
		if !errors.Is(reason(err), checkout.ErrInvalid) || !strings.Contains(err.Error(), "largest amount") {
			t.Errorf("%+v: %v", lines, err)
		}
	}
	q, err := e.cart.Quote(ctx, checkout.CartRef{Store: "big", Lines: []checkout.Line{{SKU: "A", Quantity: 1}}, Currency: "USD"}, checkout.Buyer{Country: "US", Subdivision: "OR"})
	if err != nil || q.TotalMinor != money.MaxMinor {
		t.Errorf("one line at the largest amount, no tax: %+v, %v", q.Amounts(), err)
	}
}
