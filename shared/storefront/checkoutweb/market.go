package checkoutweb

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
)

// marketPage is the market template's data.
type marketPage struct{ Items []marketItem }

type marketItem struct {
	checkout.MarketItem
	Prices []marketPrice
}

type marketPrice struct {
	Currency string
	Minor    int64
	Link     string // the add-to-cart link into the store's cart
}

// Market serves GET /market/: every store's marketplace products.
func (p *Pages) Market() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := localeFor(r, "")
		items, err := p.svc.Market(r.Context())
		if err != nil {
			p.fail(w, r, l, "market", err)
			return
		}
		page := marketPage{}
		for _, it := range items {
			mi := marketItem{MarketItem: it}
			for cur, minor := range it.Prices {
				link := "/s/" + url.PathEscape(it.Store) + "/cart/?" + url.Values{"add": {it.SKU}, "currency": {cur}, "source": {SourceMarketplace}}.Encode()
				mi.Prices = append(mi.Prices, marketPrice{Currency: cur, Minor: minor, Link: link})
			}
			sort.Slice(mi.Prices, func(i, j int) bool { return mi.Prices[i].Currency < mi.Prices[j].Currency })
			page.Items = append(page.Items, mi)
		}
		p.render(w, r, http.StatusOK, "market", view{L: l, Title: l.T("market"), Store: "Tollgate", Page: page}, policy{})
	})
}
