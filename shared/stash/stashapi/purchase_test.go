package stashapi

import (
	"errors"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
)

func TestDecodeRegisterWireForms(t *testing.T) {
	cases := []struct {
		name string
		body string
		want func(RegisterRequest) bool
	}{
		{"camelCase", `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"registrations":[{"guid":"g","productId":"x","cents":199,"quantity":2}]}`,
			func(r RegisterRequest) bool {
				return r.PlayerID == "p" && r.TransactionID == "t" && r.DecimalPlaces == 2 && r.Registrations[0].GUID == "g" && r.Registrations[0].ProductID == "x" && r.Registrations[0].Cents == 199 && r.Registrations[0].Quantity == 2
			}},
		{"snake_case", `{"player_id":"p","transaction_id":"t","currency":"usd","decimal_places":0,"checkout_link_id":"c","shop_id":"s","ip_address":"1.2.3.4","device_id":"d","registrations":[{"product_id":"x","cents":300,"quantity":1}]}`,
			func(r RegisterRequest) bool {
				return r.PlayerID == "p" && r.Currency == "USD" && r.DecimalPlaces == 0 && r.CheckoutLinkID == "c" && r.ShopID == "s" &&
					r.IPAddress == "1.2.3.4" && r.DeviceID == "d" && r.Registrations[0].ProductID == "x"
			}},
		{"int64 as strings", `{"playerId":"p","transactionId":"t","currency":"JPY","decimalPlaces":"0","registrations":[{"productId":"x","cents":"300","quantity":"3"}]}`,
			func(r RegisterRequest) bool {
				return r.Registrations[0].Cents == 300 && r.Registrations[0].Quantity == 3
			}},
		{"enums as numbers", `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"environment":2,"platform":"3","source":1,"registrations":[{"productId":"x","cents":1,"quantity":1}]}`,
			func(r RegisterRequest) bool {
				return r.Environment == "PAYMENT_ENVIRONMENT_PRODUCTION" && r.Platform == "PURCHASE_PLATFORM_WEBSTORE" && r.Source == "PURCHASE_SOURCE_CART"
			}},
		{"unknown enum values kept", `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"source":"PURCHASE_SOURCE_FUTURE","platform":9,"registrations":[{"productId":"x","cents":1,"quantity":1}]}`,
			func(r RegisterRequest) bool { return r.Source == "PURCHASE_SOURCE_FUTURE" && r.Platform == "UNKNOWN_9" }},
		{"enum number past int32 is a name", `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"platform":"2147483648","registrations":[{"productId":"x","cents":1,"quantity":1}]}`,
			func(r RegisterRequest) bool { return r.Platform == "2147483648" }},
		{"int64 string with sign and leading zeros", `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":"+02","registrations":[{"productId":"x","cents":"0199","quantity":"+10000"}]}`,
			func(r RegisterRequest) bool {
				return r.DecimalPlaces == 2 && r.Registrations[0].Cents == 199 && r.Registrations[0].Quantity == 10000
			}},
		{"enums absent", `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"registrations":[{"productId":"x","cents":1,"quantity":1}]}`,
			func(r RegisterRequest) bool { return r.Environment == Environments[0] && r.Platform == Platforms[0] }},
		{"unknown fields ignored", `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"loyalty":{"totalPoints":"5"},"newField":[1],"registrations":[{"productId":"x","cents":1,"quantity":1,"metadata":{"k":"v"},"extra":true}]}`,
			func(r RegisterRequest) bool { return r.Registrations[0].Metadata["k"] == "v" }},
		{"guid only", `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"registrations":[{"guid":"g","cents":1,"quantity":1}]}`,
			func(r RegisterRequest) bool {
				return r.Registrations[0].GUID == "g" && r.Registrations[0].ProductID == ""
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := DecodeRegister([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if !c.want(r) {
				t.Fatalf("decoded %+v", r)
			}
		})
	}
}

func TestDecodeRefusals(t *testing.T) {
	const base = `"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2`
	cases := []struct {
		name   string
		decode func([]byte) error
		body   string
		msg    string
	}{
		{"register: missing registrations", reg, `{` + base + `}`, `missing field "registrations"`},
		{"register: empty registrations", reg, `{` + base + `,"registrations":[]}`, "at least one"},
		{"register: missing cents", reg, `{` + base + `,"registrations":[{"productId":"x","quantity":1}]}`, `"registrations[0].cents"`},
		{"register: negative cents", reg, `{` + base + `,"registrations":[{"productId":"x","cents":-1,"quantity":1}]}`, "negative"},
		{"register: no product", reg, `{` + base + `,"registrations":[{"cents":1,"quantity":1}]}`, "needs a"},
		{"register: quantity 0", reg, `{` + base + `,"registrations":[{"productId":"x","cents":1,"quantity":0}]}`, "from 1 to"},
		{"register: quantity huge", reg, `{` + base + `,"registrations":[{"productId":"x","cents":1,"quantity":"99999999999999999999"}]}`, "must be an integer"},
		{"register: quantity over the limit", reg, `{` + base + `,"registrations":[{"productId":"x","cents":1,"quantity":10001}]}`, `field "registrations[0].quantity" must be from 1 to 10000, got 10001`},
		{"register: quantity exponent", reg, `{` + base + `,"registrations":[{"productId":"x","cents":1,"quantity":1e2}]}`, `field "registrations[0].quantity" must be an integer, got 1e2`},
		{"register: enum number past int32", reg, `{` + base + `,"platform":2147483648,"registrations":[{"productId":"x","cents":1,"quantity":1}]}`, `field "platform" must be an enum name or number`},
		{"register: currency with a digit", reg, `{"playerId":"p","transactionId":"t","currency":"US1","decimalPlaces":2,"registrations":[]}`, `field "currency" must be a 3-letter ISO 4217 code, got "US1"`},
		{"register: currency too long", reg, `{"playerId":"p","transactionId":"t","currency":"DOLLAR","decimalPlaces":2,"registrations":[]}`, `field "currency" must be a 3-letter ISO 4217 code, got "DOLLAR"`},
		{"register: id too long", reg, `{"playerId":"` + strings.Repeat("p", 129) + `","transactionId":"t","currency":"USD","decimalPlaces":2,"registrations":[]}`, `field "playerId" is longer than 128 characters`},
		{"register: line id not printable", reg, `{` + base + `,"registrations":[{"productId":"x\u200b","cents":1,"quantity":1}]}`, `field "registrations[0].productId" holds a control or non-printable character`},
		{"register: missing decimalPlaces", reg, `{"playerId":"p","transactionId":"t","currency":"USD","registrations":[{"productId":"x","cents":1,"quantity":1}]}`, `missing field "decimalPlaces"`},
		{"register: decimalPlaces 9", reg, `{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":9,"registrations":[{"productId":"x","cents":1,"quantity":1}]}`, "from 0 to 4"},
		{"register: currency number", reg, `{"playerId":"p","transactionId":"t","currency":840,"decimalPlaces":2,"registrations":[]}`, `"currency" must be a string`},
		{"register: bad enum", reg, `{` + base + `,"environment":true,"registrations":[{"productId":"x","cents":1,"quantity":1}]}`, "enum"},
		{"register: too many lines", reg, `{` + base + `,"registrations":[` + strings.Repeat(`{"productId":"x","cents":1,"quantity":1},`, 20) + `{"productId":"x","cents":1,"quantity":1}]}`, "at most 20"},
		{"confirm: bonus without id", conf, `{` + base + `,"items":[{"productId":"x","quantity":1}],"bonusItems":[{"quantity":1}]}`, `"bonusItems[0].id"`},
		{"confirm: tax not a number", conf, `{` + base + `,"tax":"abc","items":[{"productId":"x","quantity":1}]}`, `"tax"`},
		{"confirm: missing items", conf, `{` + base + `}`, `missing field "items"`},
		{"cancel: missing transactionId", canc, `{"playerId":"p","currency":"USD","decimalPlaces":2,"items":[{"productId":"x","quantity":1}]}`, `missing field "transactionId"`},
		{"cancel: control char", canc, `{"playerId":"p\u0007","transactionId":"t","currency":"USD","decimalPlaces":2,"items":[{"productId":"x","quantity":1}]}`, "control"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.decode([]byte(c.body))
			var de *decode.Error
			if !errors.As(err, &de) || !strings.Contains(de.Message, c.msg) {
				t.Fatalf("err = %v, want a decode error containing %q", err, c.msg)
			}
		})
	}
}

func reg(b []byte) error  { _, err := DecodeRegister(b); return err }
func conf(b []byte) error { _, err := DecodeConfirm(b); return err }
func canc(b []byte) error { _, err := DecodeCancel(b); return err }

func TestDecodeConfirmLenient(t *testing.T) {
	// A confirm follows a charge: tax, total, timeMillis and cents may be
	// omitted (proto3 zero values), and are kept when present.
	r, err := DecodeConfirm([]byte(`{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"items":[{"productId":"x","quantity":1}],
		"total":"1098","time_millis":"1795300000000","payment_method_type":2,"bonus_items":[{"id":"coin","quantity":"5"}],"email_marketing_opt_in":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Tax != 0 || r.Total != 1098 || r.TimeMillis != 1795300000000 || r.PaymentMethodType != "PAYMENT_METHOD_TYPE_APPLE_PAY" ||
		len(r.BonusItems) != 1 || r.BonusItems[0] != (Bonus{ID: "coin", Quantity: 5}) || !r.EmailMarketingOptIn || r.Items[0].Cents != 0 {
		t.Fatalf("decoded %+v", r)
	}
}

// The fuzz targets: any body decodes into a request within every limit, or
// is refused with a *decode.Error (a 400); never a panic.
func fuzzDecoder(f *testing.F, seeds []string, run func(*testing.T, []byte) ([]Line, Purchase, error)) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, p, err := run(t, body)
		if err != nil {
			requireDecodeError(t, err)
			return
		}
		if p.PlayerID == "" || p.TransactionID == "" || len(p.Currency) != 3 || p.DecimalPlaces < 0 || p.DecimalPlaces > MaxDecimalPlaces {
			t.Fatalf("accepted %+v", p)
		}
		if len(lines) == 0 || len(lines) > MaxLines {
			t.Fatalf("accepted %d lines", len(lines))
		}
		for _, l := range lines {
			if (l.ProductID == "" && l.GUID == "") || l.Quantity < 1 || l.Quantity > MaxQuantity || l.Cents < 0 {
				t.Fatalf("accepted line %+v", l)
			}
		}
	})
}

var fuzzSeeds = []string{
	`{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"registrations":[{"guid":"g","productId":"x","cents":199,"quantity":2}],"items":[{"productId":"x","cents":199,"quantity":2}]}`,
	`{"player_id":"p","transaction_id":"t","currency":"jpy","decimal_places":"0","items":[{"product_id":"x","quantity":"1"}],"bonus_items":[{"id":"c","quantity":1}]}`,
	`{"playerId":"p","transactionId":"t","currency":"USD","decimalPlaces":2,"environment":7,"registrations":[{"productId":"x","cents":"1","quantity":1e3}]}`,
	`{}`, `[]`, `null`, `{"registrations":null,"items":{}}`,
}

func FuzzDecodeRegister(f *testing.F) {
	fuzzDecoder(f, fuzzSeeds, func(t *testing.T, b []byte) ([]Line, Purchase, error) {
		r, err := DecodeRegister(b)
		return r.Registrations, r.Purchase, err
	})
}

func FuzzDecodeConfirm(f *testing.F) {
	fuzzDecoder(f, fuzzSeeds, func(t *testing.T, b []byte) ([]Line, Purchase, error) {
		r, err := DecodeConfirm(b)
		for _, bi := range r.BonusItems {
			if bi.ID == "" || bi.Quantity < 1 || bi.Quantity > MaxQuantity {
				t.Fatalf("accepted bonus item %+v", bi)
			}
		}
		return r.Items, r.Purchase, err
	})
}

func FuzzDecodeCancel(f *testing.F) {
	fuzzDecoder(f, fuzzSeeds, func(t *testing.T, b []byte) ([]Line, Purchase, error) {
		r, err := DecodeCancel(b)
		return r.Items, r.Purchase, err
	})
}
