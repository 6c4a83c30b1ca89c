package checkoutweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/stripemock"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/money"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

// oracleTax is the tax of subtotal sub for a buyer in country-subdivision
// in big.Rat, rounded half up once: the part of sub that is tax when
// prices include it, sub × rate when they do not.
func oracleTax(sub int64, country, subdivision string, included bool) int64 {
	c := tax.Data.Countries[country]
	rate := new(big.Rat)
	if r, ok := new(big.Rat).SetString(string(c.Rate)); ok && c.Type != "none" && r.Sign() > 0 {
		rate.Add(rate, r)
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

// english is an amount as the English pages write it, made here from the
// digits alone: symbol, thousands with commas, the ISO exponent's decimals.
func english(minor int64, cur string) string {
	s, _ := money.Format(minor, cur)
	whole, frac, _ := strings.Cut(s, ".")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	if frac != "" {
		whole += "." + frac
	}
	return map[string]string{"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥"}[cur] + whole
}

// TestPagesDifferential: 1,000 random cookie carts (add-to-cart links),
// half in a store whose prices include tax and half in one whose prices
// exclude it, in GBP, EUR, USD and JPY, bought by buyers of every country
// of the tax data, through the pages as a browser does: the cart page's
// total, the pay page's total and tax, the amount of the Stripe
// PaymentIntent (stripe-mock behind a recording proxy), the order as
// stored and its order.created event agree with exact half-up rounding.
func TestPagesDifferential(t *testing.T) {
	stripemock.Require(t, mockURL)
	const carts = 1000
	rng := rand.New(rand.NewPCG(24, 4217))
	currencies := []string{"GBP", "EUR", "USD", "JPY"}
	type product struct {
		SKU    string           `json:"sku"`
		Name   string           `json:"name"`
		Prices map[string]int64 `json:"prices"`
		Keys   []string         `json:"licenseKeys"`
	}
	var products []product
	for i := range 6 {
		p := product{SKU: fmt.Sprintf("SKU-%d", i), Name: fmt.Sprintf("Product %d", i), Prices: map[string]int64{}}
		for _, c := range currencies {
			p.Prices[c] = rng.Int64N(500_000) + 1
		}
		products = append(products, p)
	}
	file, _ := json.Marshal(map[string]any{"stores": []map[string]any{
		{"slug": "incl", "name": "Included", "apiKeys": []string{"sk_test_incl_store_1"}, "pricesIncludeTax": true, "products": products},
		{"slug": "excl", "name": "Excluded", "apiKeys": []string{"sk_test_excl_store_1"}, "pricesIncludeTax": false, "products": products},
	}})
	var mu sync.Mutex
	amounts := map[string]url.Values{} // order id -> the PaymentIntent's form
	target, _ := url.Parse(mockURL)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		if r.Method == http.MethodPost && r.URL.Path == "/v1/payment_intents" {
			form, _ := url.ParseQuery(string(body))
			mu.Lock()
			amounts[form.Get("metadata[tollgate_order]")] = form
			mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	env := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Stores: file, Env: map[string]string{
		"CHECKOUT_STRIPE_SECRET_KEY": "sk_test_platform", "CHECKOUT_STRIPE_PUBLISHABLE_KEY": "pk_test_platform", "STRIPE_API_BASE": proxy.URL}})
	srv := httptest.NewServer(env.Router(t))
	defer srv.Close()
	var countries []string
	for code := range tax.Data.Countries {
		countries = append(countries, code)
	}
	sort.Strings(countries)
	cell := func(page, id string) string {
		m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(page)
		if m == nil {
			return ""
		}
		return m[1]
	}
	type want struct {
		store, cur      string
		sub, tax, total int64
		included        bool
	}
	orders := map[string]want{}
	for i := range carts {
		w := want{store: "excl", cur: currencies[rng.IntN(len(currencies))]}
		if i%2 == 0 {
			w.store, w.included = "incl", true
		}
		var items []string
		for _, j := range rng.Perm(len(products))[:1+rng.IntN(3)] {
			q := 1 + rng.Int64N(100)
			items = append(items, fmt.Sprintf("%s:%d", products[j].SKU, q))
			w.sub += products[j].Prices[w.cur] * q
		}
		country, sub := countries[rng.IntN(len(countries))], ""
		if subs := tax.Data.Countries[country].Subdivisions; len(subs) > 0 {
			var codes []string
			for code := range subs {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			sub = codes[rng.IntN(len(codes))]
		}
		w.tax = oracleTax(w.sub, country, sub, w.included)
		w.total = w.sub
		if !w.included {
			w.total += w.tax
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(path string) (int, string) {
			resp, err := c.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, _ := get("/s/" + w.store + "/cart/?items=" + strings.Join(items, ",") + "&currency=" + w.cur); code != http.StatusSeeOther {
			t.Fatalf("cart %d: add link %d", i, code)
		}
		_, cart := get("/s/" + w.store + "/cart/")
		// Before the country: the prices' sum (a VAT-inclusive price is final).
		if got := cell(cart, "total"); got != english(w.sub, w.cur) || cell(cart, "subtotal") != english(w.sub, w.cur) {
			t.Fatalf("cart %d: cart page total %q, want %q", i, got, english(w.sub, w.cur))
		}
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(cart)[1]
		form := url.Values{"csrf": {csrf}, "email": {"diff@example.com"}, "country": {country}}
		if sub != "" {
			form.Set("subdivision", sub)
		}
		resp, err := c.PostForm(srv.URL+"/s/"+w.store+"/cart/", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		payLink := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(payLink, "/pay/") {
			t.Fatalf("cart %d (%s-%s): POST %d to %q", i, country, sub, resp.StatusCode, payLink)
		}
		_, pay := get(payLink)
		if got := cell(pay, "total"); got != english(w.total, w.cur) {
			t.Fatalf("cart %d (%s %s %s-%s, sub %d): pay page total %q, want %q", i, w.store, w.cur, country, sub, w.sub, got, english(w.total, w.cur))
		}
		if got := cell(pay, "tax"); got != english(w.tax, w.cur) {
			t.Fatalf("cart %d: pay page tax %q, want %q", i, got, english(w.tax, w.cur))
		}
		if w.included != strings.Contains(pay, `<tr class="included">`) {
			t.Fatalf("cart %d: the pay page's includes line, want it %v", i, w.included)
		}
		id := strings.Split(strings.TrimPrefix(strings.SplitN(payLink, "?", 2)[0], "/s/"+w.store+"/pay/"), "/")[0]
		orders[id] = w
	}
	ctx := context.Background()
	st := dynamo.Store{DB: env.Stack.DB, Tables: env.Tables}
	for id, w := range orders {
		o, found, err := stores.GetOrder(ctx, st, w.store, id)
		if err != nil || !found {
			t.Fatalf("order %s: %v %v", id, found, err)
		}
		if a, known := o.Amounts(); !known || a != (tax.Amounts{SubtotalMinor: w.sub, TaxMinor: w.tax, TotalMinor: w.total, Included: w.included}) || o.TotalMinor != w.total {
			t.Fatalf("order %s: %+v, want %+v", id, a, w)
		}
		form := amounts[id]
		if form.Get("amount") != strconv.FormatInt(w.total, 10) || form.Get("currency") != strings.ToLower(w.cur) {
			t.Fatalf("order %s: PaymentIntent %s %s, want %d %s", id, form.Get("amount"), form.Get("currency"), w.total, w.cur)
		}
	}
	events := 0
	for _, store := range []string{"incl", "excl"} {
		evs, err := outbox.Box{DB: st.DB, Table: st.Tables.Outbox}.List(ctx, dynamo.Tuple("store", store), "", 10*carts)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			var p struct {
				ID              string `json:"order_id"`
				Total, Sub, Tax int64
				Included        bool `json:"tax_included"`
			}
			var raw map[string]json.RawMessage
			if ev.Type != "order.created" || json.Unmarshal(ev.Payload, &raw) != nil {
				continue
			}
			_ = json.Unmarshal(raw["order_id"], &p.ID)
			_ = json.Unmarshal(raw["total_minor"], &p.Total)
			_ = json.Unmarshal(raw["subtotal_minor"], &p.Sub)
			_ = json.Unmarshal(raw["tax_minor"], &p.Tax)
			_ = json.Unmarshal(raw["tax_included"], &p.Included)
			w := orders[p.ID]
			if p.Total != w.total || p.Sub != w.sub || p.Tax != w.tax || p.Included != w.included {
				t.Fatalf("event %s: %+v, want %+v", ev.ID, p, w)
			}
			events++
		}
	}
	if events != carts || len(orders) != carts {
		t.Fatalf("%d events, %d orders for %d carts", events, len(orders), carts)
	}
	t.Logf("%d carts through the pages (%d per mode): cart page, pay page, order, PaymentIntent amount and order.created agree with exact rounding", carts, carts/2)
}
