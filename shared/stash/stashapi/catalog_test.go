package stashapi_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
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

// Every bad value is a *decode.Error (a 400) naming the parameter.
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
			var de *decode.Error
			if !errors.As(err, &de) {
				t.Fatalf("error %v, want a *decode.Error", err)
			}
			if !strings.Contains(de.Message, tt.want) {
				t.Errorf("message %q, want it to contain %q", de.Message, tt.want)
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
