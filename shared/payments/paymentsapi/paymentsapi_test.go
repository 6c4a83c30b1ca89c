package paymentsapi

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeCharge(t *testing.T) {
	tests := []struct {
		name, body, code string
		want             Charge
	}{
		{"minimal", `{"aliasId":"al_1","paymentData":{"amount":1000,"currency":"eur","reason":"Order 1"}}`, "",
			Charge{AliasID: "al_1", PaymentData: PaymentData{Amount: 1000, Currency: "EUR", Reason: "Order 1"}}},
		{"all fields", `{"aliasId":"al_1","paymentData":{"amount":5,"currency":"JPY","reason":"r"},"purchaseId":"p-1","customerId":"c-1","extra":true}`, "",
			Charge{AliasID: "al_1", PaymentData: PaymentData{Amount: 5, Currency: "JPY", Reason: "r"}, PurchaseID: "p-1", CustomerID: "c-1"}},
		{"no alias", `{"paymentData":{"amount":1,"currency":"EUR","reason":"r"}}`, CodeConstraint, Charge{}},
		{"no paymentData", `{"aliasId":"a"}`, CodeConstraint, Charge{}},
		{"zero", `{"aliasId":"a","paymentData":{"amount":0,"currency":"EUR","reason":"r"}}`, CodeConstraint, Charge{}},
		{"too much", `{"aliasId":"a","paymentData":{"amount":100000000000,"currency":"EUR","reason":"r"}}`, CodeConstraint, Charge{}},
		{"fraction", `{"aliasId":"a","paymentData":{"amount":1.5,"currency":"EUR","reason":"r"}}`, CodeTypeMismatch, Charge{}},
		{"exponent", `{"aliasId":"a","paymentData":{"amount":1e3,"currency":"EUR","reason":"r"}}`, "", Charge{AliasID: "a", PaymentData: PaymentData{Amount: 1000, Currency: "EUR", Reason: "r"}}},
		{"currency", `{"aliasId":"a","paymentData":{"amount":1,"currency":"EU","reason":"r"}}`, CodeConstraint, Charge{}},
		{"blank reason", `{"aliasId":"a","paymentData":{"amount":1,"currency":"EUR","reason":"  "}}`, CodeConstraint, Charge{}},
		{"alias not a string", `{"aliasId":5,"paymentData":{"amount":1,"currency":"EUR","reason":"r"}}`, CodeTypeMismatch, Charge{}},
		{"not JSON", `{"aliasId":`, CodeUnreadable, Charge{}},
		{"amount as a string", `{"aliasId":"a","paymentData":{"amount":"5000","currency":"EUR","reason":"r"}}`, CodeTypeMismatch, Charge{}},
		{"amount null", `{"aliasId":"a","paymentData":{"amount":null,"currency":"EUR","reason":"r"}}`, CodeConstraint, Charge{}},
		{"amount twice", `{"aliasId":"a","paymentData":{"amount":1,"amount":5000,"currency":"EUR","reason":"r"}}`, CodeUnreadable, Charge{}},
		{"amount twice, case folded", `{"aliasId":"a","paymentData":{"amount":1,"Amount":5000,"currency":"EUR","reason":"r"}}`, CodeUnreadable, Charge{}},
		{"alias twice", `{"aliasId":"a","aliasId":"b","paymentData":{"amount":1,"currency":"EUR","reason":"r"}}`, CodeUnreadable, Charge{}},
		{"not UTF-8", "{\"aliasId\":\"\xff\"}", CodeUnreadable, Charge{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeCharge([]byte(tt.body))
			var inv *Invalid
			switch {
			case tt.code == "" && (err != nil || got != tt.want):
				t.Fatalf("= %+v, %v; want %+v", got, err, tt.want)
			case tt.code != "" && (!errors.As(err, &inv) || inv.Code != tt.code):
				t.Fatalf("err %v, want code %s", err, tt.code)
			}
		})
	}
}

func TestDecodeExchangeRefundReverse(t *testing.T) {
	if ex, err := DecodeExchange([]byte(`{"pspAlias":"pm_1","extra":{"paymentMethod":"SEPA","sepaConfig":{"iban":"x"}}}`)); err != nil || ex.PaymentMethod != "SEPA" || !strings.Contains(string(ex.Extra), "iban") {
		t.Fatalf("exchange = %+v, %v", ex, err)
	}
	for _, bad := range []string{`{"pspAlias":"pm_1"}`, `{"pspAlias":"","extra":{"paymentMethod":"CC"}}`, `{"pspAlias":"pm","extra":{"paymentMethod":"CASH"}}`, `{"pspAlias":"pm","extra":[]}`} {
		if _, err := DecodeExchange([]byte(bad)); err == nil {
			t.Errorf("exchange %s accepted", bad)
		}
	}
	if pd, err := DecodeRefund([]byte(`{"amount":300,"currency":"usd","reason":"returned"}`)); err != nil || pd.Amount != 300 || pd.Currency != "USD" {
		t.Fatalf("refund = %+v, %v", pd, err)
	}
	if r, err := DecodeReverse(nil); err != nil || r != "" {
		t.Fatalf("empty reverse = %q, %v", r, err)
	}
	if r, err := DecodeReverse([]byte(`{"reason":"gone"}`)); err != nil || r != "gone" {
		t.Fatalf("reverse = %q, %v", r, err)
	}
}

var fuzzSeeds = []string{
	`{"aliasId":"al_1","paymentData":{"amount":1000,"currency":"EUR","reason":"Order 1"}}`,
	`{"aliasId":"al_1","paymentData":{"amount":"1000","currency":"eur","reason":"x"},"purchaseId":"p"}`,
	`{"pspAlias":"tok_visa","extra":{"paymentMethod":"CC"}}`,
	`{"amount":300,"currency":"USD","reason":"r"}`,
	`{"reason":"r"}`, `{`, `null`, `[]`, `{"aliasId":"\ud800"}`,
}

// Whatever the body, the decoders answer a value that meets every rule or
// an *Invalid; never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(err error) {
			var inv *Invalid
			if err != nil && !errors.As(err, &inv) {
				t.Fatalf("error %T %v is not an *Invalid", err, err)
			}
		}
		c, err := DecodeCharge(b)
		check(err)
		if err == nil && (c.AliasID == "" || c.PaymentData.Amount < 1 || c.PaymentData.Amount > MaxAmount || len(c.PaymentData.Currency) != 3 || !utf8.ValidString(c.PaymentData.Reason)) {
			t.Fatalf("accepted %+v", c)
		}
		ex, err := DecodeExchange(b)
		check(err)
		if err == nil && (ex.PSPAlias == "" || ex.PaymentMethod == "") {
			t.Fatalf("accepted exchange %+v", ex)
		}
		pd, err := DecodeRefund(b)
		check(err)
		if err == nil && pd.Amount < 1 {
			t.Fatalf("accepted refund %+v", pd)
		}
		_, err = DecodeReverse(b)
		check(err)
	})
}
