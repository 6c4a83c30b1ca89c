package stashapi

// Stash's catalog and player lookups (CatalogService_GetCatalog,
// CatalogService_GetOfferDetails, UserService_GetPlayer): GET calls whose
// request is the query string, and the types of their answers (the
// endpoints encode the catalog into them).

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

// CatalogPlatforms are the values of the lookups' platform parameter
// (v1CatalogPlatform), indexed by number.
var CatalogPlatforms = []string{"CATALOG_PLATFORM_UNSPECIFIED", "CATALOG_PLATFORM_IOS", "CATALOG_PLATFORM_ANDROID", "CATALOG_PLATFORM_WEBSTORE"}

// Item types of the catalog answer.
const (
	PurchasableStandardOffer  = "PURCHASABLE_ITEM_TYPE_STANDARD_OFFER"
	NonPurchasableUnspecified = "NON_PURCHASABLE_ITEM_TYPE_UNSPECIFIED"
)

// maxEnumLength bounds an enum name sent as a query value.
const maxEnumLength = 64

// CatalogQuery is CatalogService_GetCatalog's request.
type CatalogQuery struct {
	Platform      string // a CatalogPlatforms name, or the name sent when this version does not know it
	Region        string // ISO 3166-1 alpha-2, upper case; "" when absent
	Language      string // as sent; "" when absent
	PlayerID      string // "" when absent: no player-specific limits
	ShopID        string
	Environment   string // an Environments name
	CurrentTierID string
	NextTierID    string
	// Currency is a Tollgate extension (Stash's API has no such parameter):
	// the ISO 4217 code to price the catalog in, upper case, overriding the
	// region's currency. "" when absent.
	Currency string
}

// OfferQuery is CatalogService_GetOfferDetails's request: the offer by
// productId, or by guid when productId is absent.
type OfferQuery struct {
	GUID        string
	ProductID   string
	Platform    string
	Region      string
	Language    string
	PlayerID    string
	ShopID      string
	Environment string
}

// PlayerQuery is UserService_GetPlayer's request.
type PlayerQuery struct {
	PlayerID    string
	ShopID      string
	Environment string
}

// DecodeCatalogQuery decodes and validates GetCatalog's query values.
// Parameters are read by their lowerCamelCase or snake_case names, each at
// most once; unknown parameters are ignored, an empty value is an absent
// one. Refusals are *decode.Error values naming the parameter.
func DecodeCatalogQuery(v url.Values) (CatalogQuery, error) {
	q := queryReader{v: v}
	c := CatalogQuery{
		PlayerID:      q.id("playerId", "player_id"),
		ShopID:        q.id("shopId", "shop_id"),
		CurrentTierID: q.id("currentTierId", "current_tier_id"),
		NextTierID:    q.id("nextTierId", "next_tier_id"),
		Platform:      q.enum(CatalogPlatforms, "platform"),
		Environment:   q.enum(Environments, "environment"),
		Region:        q.region("region"),
		Language:      q.language("language"),
	}
	if cur := q.str("currency"); cur != "" && q.err == nil {
		c.Currency, q.err = Currency("currency", cur)
	}
	return c, q.err
}

// DecodeOfferQuery decodes and validates GetOfferDetails' query values (as
// DecodeCatalogQuery). Stash's API marks guid and productId both required;
// one of them is enough here.
func DecodeOfferQuery(v url.Values) (OfferQuery, error) {
	q := queryReader{v: v}
	o := OfferQuery{
		GUID:        q.id("guid"),
		ProductID:   q.id("productId", "product_id"),
		PlayerID:    q.id("playerId", "player_id"),
		ShopID:      q.id("shopId", "shop_id"),
		Platform:    q.enum(CatalogPlatforms, "platform"),
		Environment: q.enum(Environments, "environment"),
		Region:      q.region("region"),
		Language:    q.language("language"),
	}
	if q.err == nil && o.GUID == "" && o.ProductID == "" {
		q.err = decode.Errorf("missing query parameter %q (or %q)", "productId", "guid")
	}
	return o, q.err
}

// DecodePlayerQuery decodes and validates GetPlayer's query values (as
// DecodeCatalogQuery); playerId is required.
func DecodePlayerQuery(v url.Values) (PlayerQuery, error) {
	q := queryReader{v: v}
	p := PlayerQuery{
		PlayerID:    q.id("playerId", "player_id"),
		ShopID:      q.id("shopId", "shop_id"),
		Environment: q.enum(Environments, "environment"),
	}
	if q.err == nil && p.PlayerID == "" {
		q.err = decode.Errorf("missing query parameter %q", "playerId")
	}
	return p, q.err
}

// queryReader reads query values, keeping the first error.
type queryReader struct {
	v   url.Values
	err error
}

// str returns the value of the first of names (the lowerCamelCase name,
// then the snake_case one) that has a non-empty value. A parameter given
// more than once is refused: which one Stash meant is unknown.
func (q *queryReader) str(names ...string) string {
	if q.err != nil {
		return ""
	}
	value := ""
	for _, n := range names {
		vals := q.v[n]
		if len(vals) > 1 {
			q.err = decode.Errorf("query parameter %q is given %d times, at most once is allowed", n, len(vals))
			return ""
		}
		if len(vals) == 1 && value == "" {
			value = vals[0]
		}
	}
	return value
}

func (q *queryReader) id(names ...string) string {
	v := q.str(names...)
	if v != "" && q.err == nil {
		q.err = decode.ID(names[0], v)
	}
	return v
}

func (q *queryReader) enum(names []string, param string) string {
	v := q.str(param)
	if q.err != nil {
		return ""
	}
	name, err := QueryEnum(param, v, names)
	q.err = err
	return name
}

func (q *queryReader) region(param string) string {
	v := q.str(param)
	if v == "" || q.err != nil {
		return ""
	}
	r, err := Region(param, v)
	q.err = err
	return r
}

func (q *queryReader) language(param string) string {
	v := q.str(param)
	if v == "" || q.err != nil {
		return v
	}
	if err := validate.Language(v); err != nil {
		q.err = decode.Errorf("field %q %v, got %q", param, err, decode.Truncate(v, maxQuoted))
	}
	return v
}

// QueryEnum resolves an enum query value as the body decoders resolve enum
// fields (Enum.Name): a name or a number; "" is the enum's zero value; an
// unknown number gives "UNKNOWN_<n>". A name this version does not know is
// kept when it has the enum's prefix ("CATALOG_PLATFORM_" for
// CATALOG_PLATFORM_UNSPECIFIED, ...) and the shape of an enum name, since
// Stash adds values over time; anything else ("ios", another enum's value,
// a number beyond int32) is a 400.
func QueryEnum(field, v string, names []string) (string, error) {
	quoted, err := json.Marshal(v)
	if err != nil {
		return "", decode.Errorf("field %q must be an enum name or number", field)
	}
	var e Enum
	if err := e.UnmarshalJSON(quoted); err != nil {
		return "", decode.Errorf("field %q must be an enum name or number", field)
	}
	name, err := e.Name(field, names)
	if err != nil || e.isNum || v == "" {
		return name, err
	}
	prefix := strings.TrimSuffix(names[0], "UNSPECIFIED")
	if !strings.HasPrefix(name, prefix) || len(name) > maxEnumLength || len(name) == len(prefix) || strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
		return "", decode.Errorf("field %q must be one of %s or its number, got %q", field, strings.Join(names, ", "), decode.Truncate(v, maxQuoted))
	}
	return name, nil
}

// Region validates an ISO 3166-1 alpha-2 region code (two ASCII letters,
// any case; Stash's own example includes "EU") and returns it upper-cased.
func Region(field, v string) (string, error) {
	if len(v) != 2 || !isLetter(v[0]) || !isLetter(v[1]) {
		return "", decode.Errorf("field %q must be a 2-letter ISO 3166-1 region code, got %q", field, decode.Truncate(v, maxQuoted))
	}
	return strings.ToUpper(v), nil
}

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }

// LocalizableText is Stash's v1LocalizableText. Tollgate's catalog holds one
// text per field, sent as defaultText.
type LocalizableText struct {
	DefaultText     string `json:"defaultText,omitempty"`
	LocalizationKey string `json:"localizationKey,omitempty"`
	LocalizedText   string `json:"localizedText,omitempty"`
}

// Text returns s as a LocalizableText, nil when s is empty.
func Text(s string) *LocalizableText {
	if s == "" {
		return nil
	}
	return &LocalizableText{DefaultText: s}
}

// CatalogResponse is GetCatalog's answer (v1GetCatalogResponse).
type CatalogResponse struct {
	Catalog Catalog `json:"catalog"`
}

// Catalog holds the sections, in display order.
type Catalog struct {
	Sections []CatalogSection `json:"sections"`
}

// CatalogSection is one section (row) of the catalog.
type CatalogSection struct {
	GUID   string           `json:"guid,omitempty"`
	Header *LocalizableText `json:"header,omitempty"`
	Items  []CatalogItem    `json:"items"`
}

// CatalogItem is one entry of a section: exactly one of its fields is set.
type CatalogItem struct {
	Product *PurchasableItem    `json:"product,omitempty"`
	Info    *NonPurchasableItem `json:"info,omitempty"`
}

// PurchasableItem is a product on sale (CatalogItemPurchasableItem).
type PurchasableItem struct {
	GUID        string           `json:"guid,omitempty"`
	ProductID   string           `json:"productId"`
	Type        string           `json:"type"`
	Name        *LocalizableText `json:"name,omitempty"`
	Description *LocalizableText `json:"description,omitempty"`
	Image       string           `json:"image,omitempty"`
	// MaxPurchasable is how many units this player may buy now (always
	// sent; 0 = none).
	MaxPurchasable int64             `json:"maxPurchasable"`
	Price          Price             `json:"price"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// Price is Stash's "Price Amount Or ID"; Tollgate always sends the amount.
type Price struct {
	Amount PriceAmount `json:"amount"`
}

// PriceAmount is an amount in integer minor units of an ISO 4217 currency.
type PriceAmount struct {
	Currency string `json:"currency"`
	Cents    int64  `json:"cents"`
}

// NonPurchasableItem is a display-only entry (CatalogItemNonPurchasableItem):
// Tollgate lists locked products this way.
type NonPurchasableItem struct {
	GUID       string                    `json:"guid,omitempty"`
	ItemID     string                    `json:"itemId"`
	Type       string                    `json:"type"`
	Title      *LocalizableText          `json:"title,omitempty"`
	Body       *LocalizableText          `json:"body,omitempty"`
	Attributes *NonPurchasableAttributes `json:"attributes,omitempty"`
}

// NonPurchasableAttributes are a display-only entry's visual attributes.
type NonPurchasableAttributes struct {
	Background *Background `json:"background,omitempty"`
}

// Background is a background image.
type Background struct {
	ImageURL string `json:"imageUrl,omitempty"`
}

// OfferResponse is GetOfferDetails' answer (v1GetOfferDetailsResponse).
type OfferResponse struct {
	Items []OfferItem `json:"items"`
}

// OfferItem is an item an offer contains (v1GetOfferDetailsResponseContentItem).
type OfferItem struct {
	GUID          string           `json:"guid,omitempty"`
	Title         LocalizableText  `json:"title"`
	Description   *LocalizableText `json:"description,omitempty"`
	Image         string           `json:"image,omitempty"`
	LastUpdatedAt string           `json:"lastUpdatedAt,omitempty"` // RFC 3339
}

// PlayerResponse is GetPlayer's answer (v1GetPlayerResponse).
type PlayerResponse struct {
	Player Player `json:"player"`
}

// Player is a player's profile as Stash reads it (GetPlayerResponsePlayer).
type Player struct {
	PlayerID       string `json:"playerId"`
	Name           string `json:"name,omitempty"`
	AvatarURL      string `json:"avatarUrl,omitempty"`
	Language       string `json:"language,omitempty"`
	InGameLevel    int64  `json:"inGameLevel"`
	InGameCurrency int64  `json:"inGameCurrency"`
}
