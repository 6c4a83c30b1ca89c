// Package paymentsapi is the payments API's wire format (MobiLab's
// "Stash!" API): the request bodies, decoded and validated without HTTP.
// A refusal is an *Invalid carrying the original's validation code.
package paymentsapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

// Validation codes of the original (HTTP 400).
const (
	CodeValidation    = "2000" // generic
	CodeConstraint    = "2001" // a field missing or out of range
	CodeMissingHeader = "2002"
	CodeArgument      = "2003" // a header or path value that is not acceptable
	CodeUnreadable    = "2004" // not JSON
	CodeTypeMismatch  = "2006"
)

// Invalid is a request the API refuses before doing anything.
type Invalid struct {
	Code    string
	Message string
}

func (e *Invalid) Error() string { return e.Message }

func invalid(code, format string, args ...any) *Invalid {
	return &Invalid{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Limits.
const (
	BodyLimit     = 16 << 10
	MaxReason     = 255
	MaxMerchantID = 128
	// MaxAmount bounds an amount in minor units (Stripe's limit is
	// 99999999; a bound keeps every amount exact as a float64 too).
	MaxAmount = 99_999_999_999
)

// PaymentMethods an alias may hold.
var PaymentMethods = []string{"CC", "SEPA", "PAY_PAL", "GOOGLE_PAY", "APPLE_PAY", "KLARNA"}

// unmarshal decodes body into dst: not JSON is 2004, a JSON value of the
// wrong type 2006.
func unmarshal(body []byte, dst any) error {
	if !utf8.Valid(body) || !json.Valid(body) {
		return invalid(CodeUnreadable, "the request body is not readable JSON")
	}
	if name, dup := decode.DuplicateKey(body); dup {
		return invalid(CodeUnreadable, "the request body gives %s more than once", decode.Truncate(name, 64))
	}
	if err := decode.Unmarshal(body, dst); err != nil {
		return invalid(CodeTypeMismatch, "%s", err.Error())
	}
	return nil
}

// Charge is the body of a pre-authorization or an authorization.
type Charge struct {
	AliasID     string      `json:"aliasId"`
	PaymentData PaymentData `json:"paymentData"`
	PurchaseID  string      `json:"purchaseId,omitempty"`
	CustomerID  string      `json:"customerId,omitempty"`
}

// PaymentData is the money of a charge or a refund.
type PaymentData struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Reason   string `json:"reason"`
}

type wirePaymentData struct {
	Amount   json.RawMessage `json:"amount"` // a JSON number only, never a string
	Currency *string         `json:"currency"`
	Reason   *string         `json:"reason"`
}

// DecodeCharge decodes {aliasId, paymentData:{amount, currency, reason},
// purchaseId?, customerId?}.
func DecodeCharge(body []byte) (Charge, error) {
	var w struct {
		AliasID     *string          `json:"aliasId"`
		PaymentData *wirePaymentData `json:"paymentData"`
		PurchaseID  *string          `json:"purchaseId"`
		CustomerID  *string          `json:"customerId"`
	}
	if err := unmarshal(body, &w); err != nil {
		return Charge{}, err
	}
	var c Charge
	if w.AliasID == nil || *w.AliasID == "" {
		return Charge{}, invalid(CodeConstraint, "aliasId is required")
	}
	if err := validate.ID(*w.AliasID); err != nil {
		return Charge{}, invalid(CodeConstraint, "aliasId %v", err)
	}
	c.AliasID = *w.AliasID
	if w.PaymentData == nil {
		return Charge{}, invalid(CodeConstraint, "paymentData is required")
	}
	pd, err := paymentData("paymentData.", *w.PaymentData)
	if err != nil {
		return Charge{}, err
	}
	c.PaymentData = pd
	for _, f := range []struct {
		name string
		v    *string
		dst  *string
	}{{"purchaseId", w.PurchaseID, &c.PurchaseID}, {"customerId", w.CustomerID, &c.CustomerID}} {
		if f.v == nil || *f.v == "" {
			continue
		}
		if err := validate.ID(*f.v); err != nil {
			return Charge{}, invalid(CodeConstraint, "%s %v", f.name, err)
		}
		*f.dst = *f.v
	}
	return c, nil
}

func paymentData(prefix string, w wirePaymentData) (PaymentData, error) {
	var pd PaymentData
	if decode.Null(w.Amount) {
		return pd, invalid(CodeConstraint, "%samount is required", prefix)
	}
	n, err := validate.WholeNumber(w.Amount)
	if err != nil {
		return pd, invalid(CodeTypeMismatch, "%samount must be an integer number of minor units, got %s", prefix, decode.Truncate(string(w.Amount), 32))
	}
	if n <= 0 || n > MaxAmount {
		return pd, invalid(CodeConstraint, "%samount must be from 1 to %d minor units, got %d", prefix, int64(MaxAmount), n)
	}
	pd.Amount = n
	if w.Currency == nil || *w.Currency == "" {
		return pd, invalid(CodeConstraint, "%scurrency is required", prefix)
	}
	cur, err := validate.ParseCurrency(*w.Currency)
	if err != nil {
		return pd, invalid(CodeConstraint, "%scurrency %v, got %q", prefix, err, decode.Truncate(*w.Currency, 16))
	}
	pd.Currency = cur
	if w.Reason == nil || strings.TrimSpace(*w.Reason) == "" {
		return pd, invalid(CodeConstraint, "%sreason is required", prefix)
	}
	if utf8.RuneCountInString(*w.Reason) > MaxReason {
		return pd, invalid(CodeConstraint, "%sreason holds more than %d characters", prefix, MaxReason)
	}
	pd.Reason = *w.Reason
	return pd, nil
}

// DecodeRefund decodes {amount, currency, reason}.
func DecodeRefund(body []byte) (PaymentData, error) {
	var w wirePaymentData
	if err := unmarshal(body, &w); err != nil {
		return PaymentData{}, err
	}
	return paymentData("", w)
}

// DecodeReverse decodes {reason} (optional; an empty body is no reason).
func DecodeReverse(body []byte) (string, error) {
	if len(strings.TrimSpace(string(body))) == 0 {
		return "", nil
	}
	var w struct {
		Reason *string `json:"reason"`
	}
	if err := unmarshal(body, &w); err != nil {
		return "", err
	}
	if w.Reason == nil {
		return "", nil
	}
	if utf8.RuneCountInString(*w.Reason) > MaxReason {
		return "", invalid(CodeConstraint, "reason holds more than %d characters", MaxReason)
	}
	return *w.Reason, nil
}

// Exchange is the body of an alias exchange.
type Exchange struct {
	PSPAlias      string
	PaymentMethod string
	Extra         json.RawMessage // the extra object as sent (ccConfig, sepaConfig, personalData, ...)
}

// DecodeExchange decodes {pspAlias, extra:{paymentMethod, ...}}.
func DecodeExchange(body []byte) (Exchange, error) {
	var w struct {
		PSPAlias *string         `json:"pspAlias"`
		Extra    json.RawMessage `json:"extra"`
	}
	if err := unmarshal(body, &w); err != nil {
		return Exchange{}, err
	}
	if w.PSPAlias == nil || *w.PSPAlias == "" {
		return Exchange{}, invalid(CodeConstraint, "pspAlias is required")
	}
	if len(*w.PSPAlias) > 255 || strings.ContainsFunc(*w.PSPAlias, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Exchange{}, invalid(CodeConstraint, "pspAlias must be 1 to 255 printable characters")
	}
	if len(w.Extra) == 0 || decode.Null(w.Extra) {
		return Exchange{}, invalid(CodeConstraint, "extra.paymentMethod is required")
	}
	var extra struct {
		PaymentMethod *string `json:"paymentMethod"`
	}
	if err := unmarshal(w.Extra, &extra); err != nil {
		return Exchange{}, invalid(CodeTypeMismatch, "extra must be an object: %v", err)
	}
	if extra.PaymentMethod == nil || !slices.Contains(PaymentMethods, *extra.PaymentMethod) {
		return Exchange{}, invalid(CodeConstraint, "extra.paymentMethod must be one of %s", strings.Join(PaymentMethods, ", "))
	}
	return Exchange{PSPAlias: *w.PSPAlias, PaymentMethod: *extra.PaymentMethod, Extra: w.Extra}, nil
}
