package stashapi

import (
	"errors"
	"strconv"
	"strings"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

// Enum value names, indexed by number, as in Stash's OpenAPI.
var (
	Environments = []string{"PAYMENT_ENVIRONMENT_UNSPECIFIED", "PAYMENT_ENVIRONMENT_TEST", "PAYMENT_ENVIRONMENT_PRODUCTION"}
	Platforms    = []string{"PURCHASE_PLATFORM_UNSPECIFIED", "PURCHASE_PLATFORM_IOS", "PURCHASE_PLATFORM_ANDROID", "PURCHASE_PLATFORM_WEBSTORE"}
	Sources      = []string{"PURCHASE_SOURCE_UNSPECIFIED", "PURCHASE_SOURCE_CART", "PURCHASE_SOURCE_DIRECT", "PURCHASE_SOURCE_BUY_NOW"}
	PaymentTypes = []string{"PAYMENT_METHOD_TYPE_UNSPECIFIED", "PAYMENT_METHOD_TYPE_CARD", "PAYMENT_METHOD_TYPE_APPLE_PAY",
		"PAYMENT_METHOD_TYPE_GOOGLE_PAY", "PAYMENT_METHOD_TYPE_PAYPAL", "PAYMENT_METHOD_TYPE_KLARNA"}
)

// Registration statuses (PurchaseService_RegisterPayment).
const (
	RegistrationUnspecified           = "PURCHASE_REGISTRATION_STATUS_UNSPECIFIED"
	RegistrationRegistered            = "PURCHASE_REGISTRATION_STATUS_SUCCESS_REGISTERED"
	RegistrationInvalidOffer          = "PURCHASE_REGISTRATION_STATUS_FAILED_INVALID_OFFER"
	RegistrationInsufficientInventory = "PURCHASE_REGISTRATION_STATUS_FAILED_INSUFFICIENT_INVENTORY"
	RegistrationLimitExceeded         = "PURCHASE_REGISTRATION_STATUS_FAILED_PURCHASE_LIMIT_EXCEEDED"
	RegistrationInvalidPrice          = "PURCHASE_REGISTRATION_STATUS_FAILED_INVALID_PRICE"
	RegistrationLocked                = "PURCHASE_REGISTRATION_STATUS_FAILED_PURCHASE_LOCKED"
)

// Cancellation statuses (PurchaseService_CancelPayment).
const (
	CancellationUnspecified      = "PURCHASE_CANCELLATION_STATUS_UNSPECIFIED"
	CancellationCancelled        = "PURCHASE_CANCELLATION_STATUS_SUCCESS_CANCELLED"
	CancellationNotFound         = "PURCHASE_CANCELLATION_STATUS_FAILED_TRANSACTION_NOT_FOUND"
	CancellationAlreadyCompleted = "PURCHASE_CANCELLATION_STATUS_FAILED_ALREADY_COMPLETED"
	CancellationAlreadyCancelled = "PURCHASE_CANCELLATION_STATUS_FAILED_ALREADY_CANCELLED"
)

// Limits of a purchase request.
const (
	BodyLimit        = 64 << 10             // bytes
	MaxLines         = 20                   // lines (registrations, items, bonus items) per request; a confirm transaction holds at most 1+4×20 writes
	MaxQuantity      = validate.MaxQuantity // units per line
	MaxDecimalPlaces = 4
)

// Line is one product line of a register, confirm or cancel call.
type Line struct {
	GUID      string
	ProductID string
	Cents     int64 // per unit, in minor units of the request's currency
	Quantity  int64
	Metadata  map[string]string
}

// Bonus is a bonus item of a confirm call, granted with the purchase.
type Bonus struct {
	ID       string
	Quantity int64
}

// Purchase holds the fields every purchase call carries.
type Purchase struct {
	PlayerID       string
	TransactionID  string
	CheckoutLinkID string
	ShopID         string
	Environment    string
	Currency       string // upper case
	DecimalPlaces  int64
}

// RegisterRequest is PurchaseService_RegisterPayment's body.
type RegisterRequest struct {
	Purchase
	Registrations []Line
	Platform      string
	Source        string
	Browser       string
	DeviceID      string
	IPAddress     string
	Region        string
}

// ConfirmRequest is PurchaseService_ConfirmPayment's body.
type ConfirmRequest struct {
	Purchase
	Items               []Line
	BonusItems          []Bonus
	Tax, Total          int64
	TimeMillis          int64
	PaymentMethodType   string
	Platform            string
	Source              string
	UserEmail           string
	EmailMarketingOptIn bool
}

// CancelRequest is PurchaseService_CancelPayment's body.
type CancelRequest struct {
	Purchase
	Items []Line
}

type wirePurchase struct {
	PlayerID        string       `json:"playerId"`
	PlayerIDS       string       `json:"player_id"`
	TransactionID   string       `json:"transactionId"`
	TransactionIDS  string       `json:"transaction_id"`
	CheckoutLinkID  string       `json:"checkoutLinkId"`
	CheckoutLinkIDS string       `json:"checkout_link_id"`
	ShopID          string       `json:"shopId"`
	ShopIDS         string       `json:"shop_id"`
	Environment     Enum         `json:"environment"`
	Currency        string       `json:"currency"`
	DecimalPlaces   decode.Int64 `json:"decimalPlaces"`
	DecimalPlacesS  decode.Int64 `json:"decimal_places"`
	Platform        Enum         `json:"platform"`
	Source          Enum         `json:"source"`
}

type wireLine struct {
	GUID       string            `json:"guid"`
	ProductID  string            `json:"productId"`
	ProductIDS string            `json:"product_id"`
	Cents      decode.Int64      `json:"cents"`
	Quantity   decode.Int64      `json:"quantity"`
	Metadata   map[string]string `json:"metadata"`
}

type wireBonus struct {
	ID       string       `json:"id"`
	Quantity decode.Int64 `json:"quantity"`
}

type wireRegister struct {
	wirePurchase
	Registrations []wireLine `json:"registrations"`
	Browser       string     `json:"browser"`
	DeviceID      string     `json:"deviceId"`
	DeviceIDS     string     `json:"device_id"`
	IPAddress     string     `json:"ipAddress"`
	IPAddressS    string     `json:"ip_address"`
	Region        string     `json:"region"`
}

type wireConfirm struct {
	wirePurchase
	Items                []wireLine   `json:"items"`
	BonusItems           []wireBonus  `json:"bonusItems"`
	BonusItemsS          []wireBonus  `json:"bonus_items"`
	Tax                  decode.Int64 `json:"tax"`
	Total                decode.Int64 `json:"total"`
	TimeMillis           decode.Int64 `json:"timeMillis"`
	TimeMillisS          decode.Int64 `json:"time_millis"`
	PaymentMethodType    Enum         `json:"paymentMethodType"`
	PaymentMethodTypeS   Enum         `json:"payment_method_type"`
	UserEmail            string       `json:"userEmail"`
	UserEmailS           string       `json:"user_email"`
	EmailMarketingOptIn  *bool        `json:"emailMarketingOptIn"`
	EmailMarketingOptInS *bool        `json:"email_marketing_opt_in"`
}

type wireCancel struct {
	wirePurchase
	Items []wireLine `json:"items"`
}

// DecodeRegister decodes and validates a register body. Refusals are
// *decode.Error values naming the field.
func DecodeRegister(body []byte) (RegisterRequest, error) {
	var w wireRegister
	if err := unmarshal(body, &w); err != nil {
		return RegisterRequest{}, err
	}
	p, err := w.purchase()
	if err != nil {
		return RegisterRequest{}, err
	}
	lines, err := decodeLines("registrations", w.Registrations, true)
	if err != nil {
		return RegisterRequest{}, err
	}
	r := RegisterRequest{Purchase: p, Registrations: lines, Browser: w.Browser,
		DeviceID: pick(w.DeviceID, w.DeviceIDS), IPAddress: pick(w.IPAddress, w.IPAddressS), Region: w.Region}
	if r.Platform, err = w.Platform.Name("platform", Platforms); err != nil {
		return RegisterRequest{}, err
	}
	if r.Source, err = w.Source.Name("source", Sources); err != nil {
		return RegisterRequest{}, err
	}
	return r, nil
}

// DecodeConfirm decodes and validates a confirm body. A confirm comes after
// Stash has charged the player, so only what granting needs is required;
// tax, total, timeMillis and per-item cents are recorded when present.
func DecodeConfirm(body []byte) (ConfirmRequest, error) {
	var w wireConfirm
	if err := unmarshal(body, &w); err != nil {
		return ConfirmRequest{}, err
	}
	p, err := w.purchase()
	if err != nil {
		return ConfirmRequest{}, err
	}
	lines, err := decodeLines("items", w.Items, false)
	if err != nil {
		return ConfirmRequest{}, err
	}
	r := ConfirmRequest{Purchase: p, Items: lines, UserEmail: pick(w.UserEmail, w.UserEmailS)}
	bonus := w.BonusItems
	if len(bonus) == 0 {
		bonus = w.BonusItemsS
	}
	if len(bonus) > MaxLines {
		return ConfirmRequest{}, decode.Errorf("field %q holds %d entries, at most %d are allowed", "bonusItems", len(bonus), MaxLines)
	}
	if len(bonus) > 0 {
		r.BonusItems = make([]Bonus, 0, len(bonus))
	}
	for i, b := range bonus {
		at := elem{"bonusItems", i}
		if err := validID(at, ".id", b.ID); err != nil {
			return ConfirmRequest{}, err
		}
		q, err := quantity(at, ".quantity", b.Quantity)
		if err != nil {
			return ConfirmRequest{}, err
		}
		r.BonusItems = append(r.BonusItems, Bonus{ID: b.ID, Quantity: q})
	}
	for _, f := range []struct {
		dst  *int64
		v    decode.Int64
		path string
	}{{&r.Tax, w.Tax, "tax"}, {&r.Total, w.Total, "total"}, {&r.TimeMillis, pickInt(w.TimeMillis, w.TimeMillisS), "timeMillis"}} {
		if *f.dst, err = optionalInt(f.v, f.path); err != nil {
			return ConfirmRequest{}, err
		}
	}
	if r.PaymentMethodType, err = pickEnum(w.PaymentMethodType, w.PaymentMethodTypeS).Name("paymentMethodType", PaymentTypes); err != nil {
		return ConfirmRequest{}, err
	}
	if r.Platform, err = w.Platform.Name("platform", Platforms); err != nil {
		return ConfirmRequest{}, err
	}
	if r.Source, err = w.Source.Name("source", Sources); err != nil {
		return ConfirmRequest{}, err
	}
	r.EmailMarketingOptIn = pickBool(w.EmailMarketingOptIn, w.EmailMarketingOptInS)
	return r, nil
}

// DecodeCancel decodes and validates a cancel body.
func DecodeCancel(body []byte) (CancelRequest, error) {
	var w wireCancel
	if err := unmarshal(body, &w); err != nil {
		return CancelRequest{}, err
	}
	p, err := w.purchase()
	if err != nil {
		return CancelRequest{}, err
	}
	lines, err := decodeLines("items", w.Items, false)
	if err != nil {
		return CancelRequest{}, err
	}
	return CancelRequest{Purchase: p, Items: lines}, nil
}

func (w wirePurchase) purchase() (Purchase, error) {
	p := Purchase{
		PlayerID:       pick(w.PlayerID, w.PlayerIDS),
		TransactionID:  pick(w.TransactionID, w.TransactionIDS),
		CheckoutLinkID: pick(w.CheckoutLinkID, w.CheckoutLinkIDS),
		ShopID:         pick(w.ShopID, w.ShopIDS),
	}
	if err := requireID("playerId", p.PlayerID); err != nil {
		return Purchase{}, err
	}
	if err := requireID("transactionId", p.TransactionID); err != nil {
		return Purchase{}, err
	}
	for _, f := range []struct{ name, v string }{{"checkoutLinkId", p.CheckoutLinkID}, {"shopId", p.ShopID}} {
		if f.v != "" {
			if err := decode.ID(f.name, f.v); err != nil {
				return Purchase{}, err
			}
		}
	}
	var err error
	if p.Environment, err = w.Environment.Name("environment", Environments); err != nil {
		return Purchase{}, err
	}
	if p.Currency, err = Currency("currency", w.Currency); err != nil {
		return Purchase{}, err
	}
	if p.DecimalPlaces, err = pickInt(w.DecimalPlaces, w.DecimalPlacesS).Value("decimalPlaces"); err != nil {
		return Purchase{}, err
	}
	if p.DecimalPlaces < 0 || p.DecimalPlaces > MaxDecimalPlaces {
		return Purchase{}, decode.Errorf("field %q must be from 0 to %d, got %d", "decimalPlaces", MaxDecimalPlaces, p.DecimalPlaces)
	}
	return p, nil
}

func requireID(field, v string) error {
	if v == "" {
		return decode.Errorf("missing field %q", field)
	}
	return decode.ID(field, v)
}

// Currency validates an ISO 4217 code (three letters, any case) with
// validate.ParseCurrency and returns it upper-cased.
func Currency(field, v string) (string, error) {
	if v == "" {
		return "", decode.Errorf("missing field %q", field)
	}
	code, err := validate.ParseCurrency(v)
	if err != nil {
		return "", decode.Errorf("field %q %v, got %q", field, err, decode.Truncate(v, maxQuoted))
	}
	return code, nil
}

func decodeLines(field string, wl []wireLine, requireCents bool) ([]Line, error) {
	if wl == nil {
		return nil, decode.Errorf("missing field %q", field)
	}
	if len(wl) == 0 {
		return nil, decode.Errorf("field %q must hold at least one item", field)
	}
	if len(wl) > MaxLines {
		return nil, decode.Errorf("field %q holds %d items, at most %d are allowed", field, len(wl), MaxLines)
	}
	lines := make([]Line, len(wl))
	for i := range wl {
		w := &wl[i]
		at := elem{field, i}
		l := Line{GUID: w.GUID, ProductID: pick(w.ProductID, w.ProductIDS), Metadata: w.Metadata}
		if l.GUID == "" && l.ProductID == "" {
			return nil, decode.Errorf("%s needs a %q or a %q", at.path(""), "productId", "guid")
		}
		if l.ProductID != "" {
			if err := validID(at, ".productId", l.ProductID); err != nil {
				return nil, err
			}
		}
		if l.GUID != "" {
			if err := validID(at, ".guid", l.GUID); err != nil {
				return nil, err
			}
		}
		var err error
		if l.Quantity, err = quantity(at, ".quantity", w.Quantity); err != nil {
			return nil, err
		}
		if requireCents || w.Cents.Set() {
			c, ok := w.Cents.Get()
			if !ok {
				_, err := w.Cents.Value(at.path(".cents"))
				return nil, err
			}
			if c < 0 {
				return nil, decode.Errorf("field %q must not be negative, got %d", at.path(".cents"), c)
			}
			l.Cents = c
		}
		lines[i] = l
	}
	return lines, nil
}

// elem is the element index of array field; its paths ("items[2].quantity")
// are built only for error messages.
type elem struct {
	field string
	index int
}

func (e elem) path(sub string) string {
	return e.field + "[" + strconv.Itoa(e.index) + "]" + sub
}

// validID is decode.ID of the element's field sub, building its path only
// for an error.
func validID(at elem, sub, v string) error {
	if validate.ID(v) == nil {
		return nil
	}
	return decode.ID(at.path(sub), v)
}

// quantity returns the element's quantity field sub, checked by
// validate.Quantity, building its path only for an error.
func quantity(at elem, sub string, v decode.Int64) (int64, error) {
	q, ok := v.Get()
	if !ok {
		_, err := v.Value(at.path(sub))
		return 0, err
	}
	if err := validate.Quantity(q); err != nil {
		return 0, decode.Errorf("field %q %v", at.path(sub), err)
	}
	return q, nil
}

// RegistrationStatus is one entry of the register answer.
type RegistrationStatus struct {
	GUID      string `json:"guid,omitempty"`
	ProductID string `json:"productId,omitempty"`
	Status    string `json:"status"`
	Message   string `json:"message,omitempty"`
}

// RegisterResponse is the register answer (always HTTP 200).
type RegisterResponse struct {
	Statuses []RegistrationStatus `json:"statuses"`
}

// ConfirmResult is one entry of the confirm answer.
type ConfirmResult struct {
	GUID      string `json:"guid,omitempty"`
	ProductID string `json:"productId,omitempty"`
}

// ConfirmResponse is the confirm answer (HTTP 200 on success).
type ConfirmResponse struct {
	Results []ConfirmResult `json:"results"`
}

// CancelResponse is the cancel answer (always HTTP 200).
type CancelResponse struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// unmarshal is decode.Unmarshal with error paths free of the embedded wire
// struct's name ("wirePurchase.currency" reads "currency").
func unmarshal(body []byte, dst any) error {
	err := decode.Unmarshal(body, dst)
	var de *decode.Error
	if errors.As(err, &de) {
		de.Message = strings.ReplaceAll(de.Message, "wirePurchase.", "")
	}
	return err
}
