package stashapi_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/catalog"
	"github.com/tollgate-dev/tollgate/shared/httpx"
	"github.com/tollgate-dev/tollgate/shared/stashapi"
)

func TestDecodeCatalogQuery(t *testing.T) {
	tests := []struct {
		name, query string
		want        stashapi.CatalogQuery
	}{
		{"empty", "", stashapi.CatalogQuery{Platform: "CATALOG_PLATFORM_UNSPECIFIED", Environment: "PAYMENT_ENVIRONMENT_UNSPECIFIED"}},
		{"everything, camelCase",
			"platform=CATALOG_PLATFORM_IOS&region=jp&language=pt-BR&playerId=p%201&shopId=s&environment=PAYMENT_ENVIRONMENT_TEST&currentTierId=gold&nextTierId=platinum&currency=eur&unknown=x",
			stashapi.CatalogQuery{Platform: "CATALOG_PLATFORM_IOS", Region: "JP", Language: "pt-BR", PlayerID: "p 1", ShopID: "s",
				Environment: "PAYMENT_ENVIRONMENT_TEST", CurrentTierID: "gold", NextTierID: "platinum", Currency: "EUR"}},
		{"snake_case and enum numbers", "player_id=p&shop_id=s&current_tier_id=c&next_tier_id=n&platform=3&environment=2",
			stashapi.CatalogQuery{Platform: "CATALOG_PLATFORM_WEBSTORE", Environment: "PAYMENT_ENVIRONMENT_PRODUCTION", PlayerID: "p", ShopID: "s", CurrentTierID: "c", NextTierID: "n"}},
		{"camelCase wins over snake_case", "playerId=a&player_id=b",
			stashapi.CatalogQuery{Platform: "CATALOG_PLATFORM_UNSPECIFIED", Environment: "PAYMENT_ENVIRONMENT_UNSPECIFIED", PlayerID: "a"}},
		{"empty values are absent", "playerId=&region=&language=&platform=&currency=",
			stashapi.CatalogQuery{Platform: "CATALOG_PLATFORM_UNSPECIFIED", Environment: "PAYMENT_ENVIRONMENT_UNSPECIFIED"}},
		{"unknown enum values kept", "platform=CATALOG_PLATFORM_CONSOLE&environment=7",
			stashapi.CatalogQuery{Platform: "CATALOG_PLATFORM_CONSOLE", Environment: "UNKNOWN_7"}},
		{"ISO 639-1 and long BCP 47", "language=en&region=EU", stashapi.CatalogQuery{Platform: "CATALOG_PLATFORM_UNSPECIFIED", Environment: "PAYMENT_ENVIRONMENT_UNSPECIFIED", Language: "en", Region: "EU"}},
		{"max id length", "playerId=" + strings.Repeat("x", 128),
			stashapi.CatalogQuery{Platform: "CATALOG_PLATFORM_UNSPECIFIED", Environment: "PAYMENT_ENVIRONMENT_UNSPECIFIED", PlayerID: strings.Repeat("x", 128)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := stashapi.DecodeCatalogQuery(v)
			if err != nil {
				t.Fatalf("DecodeCatalogQuery: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// Every bad value is a 400 naming the parameter.
func TestDecodeQueryRefusals(t *testing.T) {
	catalogQ := func(v url.Values) error { _, err := stashapi.DecodeCatalogQuery(v); return err }
	offerQ := func(v url.Values) error { _, err := stashapi.DecodeOfferQuery(v); return err }
	playerQ := func(v url.Values) error { _, err := stashapi.DecodePlayerQuery(v); return err }
	tests := []struct {
		name   string
		decode func(url.Values) error
		query  string
		want   string
	}{
		{"platform lower case", catalogQ, "platform=ios", `"platform" must be one of CATALOG_PLATFORM_UNSPECIFIED`},
		{"platform of another enum", catalogQ, "platform=PURCHASE_PLATFORM_IOS", `"platform"`},
		{"platform prefix only", catalogQ, "platform=CATALOG_PLATFORM_", `"platform"`},
		{"platform beyond int32", catalogQ, "platform=99999999999", `"platform"`},
		{"platform fraction", catalogQ, "platform=1.5", `"platform"`},
		{"environment garbage", catalogQ, "environment=PAYMENT_ENVIRONMENT_te st", `"environment"`},
		{"environment too long", catalogQ, "environment=PAYMENT_ENVIRONMENT_" + strings.Repeat("X", 60), `"environment"`},
		{"region three letters", catalogQ, "region=USA", `"region" must be a 2-letter`},
		{"region digits", catalogQ, "region=U1", `"region"`},
		{"language one letter", catalogQ, "language=e", `"language" must be a language tag`},
		{"language too long", catalogQ, "language=en" + strings.Repeat("-abcdefgh", 4), `"language"`},
		{"language empty subtag", catalogQ, "language=en--US", `"language"`},
		{"language digits first", catalogQ, "language=12", `"language"`},
		{"language underscore", catalogQ, "language=en_US", `"language"`},
		{"playerId too long", catalogQ, "playerId=" + strings.Repeat("x", 129), `"playerId" is longer than 128`},
		{"playerId control character", catalogQ, "playerId=a%00b", `"playerId" holds a control`},
		{"shopId too long", catalogQ, "shopId=" + strings.Repeat("x", 129), `"shopId"`},
		{"tier id too long", catalogQ, "nextTierId=" + strings.Repeat("x", 129), `"nextTierId"`},
		{"currency two letters", catalogQ, "currency=US", `"currency" must be a 3-letter ISO 4217`},
		{"currency symbol", catalogQ, "currency=U%24D", `"currency"`},
		{"repeated parameter", catalogQ, "playerId=a&playerId=b", `query parameter "playerId" is given 2 times`},
		{"repeated snake_case parameter", catalogQ, "player_id=a&player_id=a", `"player_id" is given 2 times`},
		{"offer without product", offerQ, "platform=1", `missing query parameter "productId" (or "guid")`},
		{"offer guid too long", offerQ, "guid=" + strings.Repeat("g", 129), `"guid"`},
		{"offer region", offerQ, "productId=x&region=usa", `"region"`},
		{"player without playerId", playerQ, "shopId=s", `missing query parameter "playerId"`},
		{"player environment", playerQ, "playerId=p&environment=prod", `"environment"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.decode(v)
			var re *httpx.RequestError
			if !errors.As(err, &re) || re.Status != http.StatusBadRequest {
				t.Fatalf("error %v, want a 400 RequestError", err)
			}
			if !strings.Contains(re.Message, tt.want) {
				t.Errorf("message %q, want it to contain %q", re.Message, tt.want)
			}
		})
	}
}

func TestDecodeOfferAndPlayerQuery(t *testing.T) {
	v, _ := url.ParseQuery("guid=g-1&product_id=x&playerId=p&platform=2&language=de&region=de")
	o, err := stashapi.DecodeOfferQuery(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := (stashapi.OfferQuery{GUID: "g-1", ProductID: "x", PlayerID: "p", Platform: "CATALOG_PLATFORM_ANDROID", Language: "de", Region: "DE",
		Environment: "PAYMENT_ENVIRONMENT_UNSPECIFIED"}); o != want {
		t.Errorf("offer query %+v, want %+v", o, want)
	}
	v, _ = url.ParseQuery("player_id=p&environment=PAYMENT_ENVIRONMENT_TEST")
	p, err := stashapi.DecodePlayerQuery(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := (stashapi.PlayerQuery{PlayerID: "p", Environment: "PAYMENT_ENVIRONMENT_TEST"}); p != want {
		t.Errorf("player query %+v, want %+v", p, want)
	}
}

func ptr(n int64) *int64 { return &n }

func testCatalog() *catalog.Catalog {
	return catalog.NewCatalog([]catalog.Product{
		{ProductID: "a", GUID: "g-a", Name: "A", Description: "Alpha", ImageURL: "https://x/a.png", Prices: map[string]int64{"USD": 100, "EUR": 90, "JPY": 150}, Active: true, Metadata: map[string]string{"k": "v"}},
		{ProductID: "b", Name: "B", Prices: map[string]int64{"USD": 200}, Stock: ptr(5), Available: 0, Active: true},
		{ProductID: "c", Name: "C", Prices: map[string]int64{"USD": 300, "EUR": 280}, PerPlayerLimit: ptr(2), Active: true},
		{ProductID: "d", GUID: "g-d", Name: "D", Description: "Soon", ImageURL: "https://x/d.png", Prices: map[string]int64{"USD": 400}, Locked: true, Active: true},
		{ProductID: "e", GUID: "g-e", Name: "E", Prices: map[string]int64{"USD": 500, "GBP": 450}, Active: false},
		{ProductID: "f", Name: "F", Prices: map[string]int64{"JPY": 10}, Locked: true, Active: true},
	})
}

// catalogView is GetCatalog's answer built as the catalog handler builds
// it: the shop's listing (catalog.List) encoded (NewCatalogResponse).
type catalogView struct {
	Response stashapi.CatalogResponse
	Currency string
	Unpriced []string
}

func buildCatalog(cat *catalog.Catalog, q stashapi.CatalogQuery, bought map[string]int64, title string) (catalogView, error) {
	l, err := catalog.List(cat, catalog.ListingQuery{Currency: q.Currency, Region: q.Region, Bought: bought})
	if err != nil {
		return catalogView{}, err
	}
	return catalogView{Response: stashapi.NewCatalogResponse(l, title), Currency: l.Currency, Unpriced: l.Unpriced}, nil
}

func TestBuildCatalog(t *testing.T) {
	cat := testCatalog()
	tests := []struct {
		name     string
		q        stashapi.CatalogQuery
		bought   map[string]int64
		currency string
		want     string // product ids with maxPurchasable, locked ones as info:<id>
		unpriced string
	}{
		{"default currency", stashapi.CatalogQuery{}, nil, "USD", "a=10000 b=0 c=2 info:d info:f", ""},
		{"region currency", stashapi.CatalogQuery{Region: "DE"}, nil, "EUR", "a=10000 c=2 info:d info:f", "b"},
		{"EU region", stashapi.CatalogQuery{Region: "EU"}, nil, "EUR", "a=10000 c=2 info:d info:f", "b"},
		{"region whose currency nothing listed is priced in", stashapi.CatalogQuery{Region: "GB"}, nil, "USD", "a=10000 b=0 c=2 info:d info:f", ""},
		{"unmapped region", stashapi.CatalogQuery{Region: "ZZ"}, nil, "USD", "a=10000 b=0 c=2 info:d info:f", ""},
		{"currency parameter wins over region", stashapi.CatalogQuery{Region: "DE", Currency: "JPY"}, nil, "JPY", "a=10000 info:d info:f", "b c"},
		{"player's counts", stashapi.CatalogQuery{PlayerID: "p"}, map[string]int64{"c": 2, "a": 7}, "USD", "a=10000 b=0 c=0 info:d info:f", ""},
		{"player's counts, some left", stashapi.CatalogQuery{PlayerID: "p"}, map[string]int64{"c": 1}, "USD", "a=10000 b=0 c=1 info:d info:f", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view, err := buildCatalog(cat, tt.q, tt.bought, "Shop")
			if err != nil {
				t.Fatal(err)
			}
			if view.Currency != tt.currency {
				t.Errorf("currency %s, want %s", view.Currency, tt.currency)
			}
			if got := strings.Join(view.Unpriced, " "); got != tt.unpriced {
				t.Errorf("unpriced %q, want %q", got, tt.unpriced)
			}
			sections := view.Response.Catalog.Sections
			if len(sections) != 1 || sections[0].Header == nil || sections[0].Header.DefaultText != "Shop" {
				t.Fatalf("sections %+v, want one headed Shop", sections)
			}
			var got []string
			for _, it := range sections[0].Items {
				switch {
				case it.Product != nil && it.Info == nil:
					p := it.Product
					if p.Price.Amount.Currency != tt.currency || p.Type != stashapi.PurchasableStandardOffer {
						t.Errorf("%s: price %+v type %s", p.ProductID, p.Price, p.Type)
					}
					got = append(got, p.ProductID+"="+itoa(p.MaxPurchasable))
				case it.Info != nil && it.Product == nil:
					got = append(got, "info:"+it.Info.ItemID)
				default:
					t.Fatalf("item %+v must have exactly one kind", it)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("items %v, want %s", got, tt.want)
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestBuildCatalogJSON(t *testing.T) {
	view, err := buildCatalog(testCatalog(), stashapi.CatalogQuery{Region: "JP"}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(view.Response)
	want := `{"catalog":{"sections":[{"items":[` +
		`{"product":{"guid":"g-a","productId":"a","type":"PURCHASABLE_ITEM_TYPE_STANDARD_OFFER","name":{"defaultText":"A"},"description":{"defaultText":"Alpha"},"image":"https://x/a.png","maxPurchasable":10000,"price":{"amount":{"currency":"JPY","cents":150}},"metadata":{"k":"v"}}},` +
		`{"info":{"guid":"g-d","itemId":"d","type":"NON_PURCHASABLE_ITEM_TYPE_UNSPECIFIED","title":{"defaultText":"D"},"body":{"defaultText":"Soon"},"attributes":{"background":{"imageUrl":"https://x/d.png"}}}},` +
		`{"info":{"itemId":"f","type":"NON_PURCHASABLE_ITEM_TYPE_UNSPECIFIED","title":{"defaultText":"F"}}}]}]}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestBuildOffer(t *testing.T) {
	at := time.Date(2026, 11, 21, 12, 0, 0, 5, time.UTC)
	got, _ := json.Marshal(stashapi.BuildOffer(catalog.Product{ProductID: "a", GUID: "g", Name: "A", Description: "d", ImageURL: "https://x/a.png", UpdatedAt: at}))
	want := `{"items":[{"guid":"g","title":{"defaultText":"A"},"description":{"defaultText":"d"},"image":"https://x/a.png","lastUpdatedAt":"2026-11-21T12:00:00.000000005Z"}]}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got, _ = json.Marshal(stashapi.BuildOffer(catalog.Product{ProductID: "a", Name: "A"}))
	if want := `{"items":[{"title":{"defaultText":"A"}}]}`; string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
