package stashapi

import (
	"fmt"
	"strings"
	"testing"
)

// benchPurchase is a purchase body as Stash sends it (the shape of
// events/register.json) with n lines under field.
func benchPurchase(field string, n int, extra string) []byte {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"guid":"5f0c7a3e-1d2b-4c8e-9a61-0b7e3d2f4a%02d","productId":"product_%d","cents":%d,"quantity":%d}`, i, i, 199+100*i, 1+i)
	}
	return []byte(`{"playerId":"player_id_123","transactionId":"txn-0001","shopId":"dev-shop","environment":"PAYMENT_ENVIRONMENT_TEST",` +
		`"currency":"USD","decimalPlaces":2,"` + field + `":[` + strings.Join(lines, ",") + `],` +
		`"platform":"PURCHASE_PLATFORM_WEBSTORE","source":"PURCHASE_SOURCE_DIRECT"` + extra + `}`)
}

func BenchmarkDecodeRegister(b *testing.B) {
	for _, n := range []int{1, 5} {
		body := benchPurchase("registrations", n, `,"region":"US","ipAddress":"203.0.113.7"`)
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeRegister(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeConfirm(b *testing.B) {
	for _, n := range []int{1, 5} {
		body := benchPurchase("items", n, `,"tax":"0","total":"1999","timeMillis":"1795262400000","paymentMethodType":"PAYMENT_METHOD_TYPE_CARD","bonusItems":[{"id":"gems","quantity":50}]`)
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeConfirm(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeCancel(b *testing.B) {
	for _, n := range []int{1, 5} {
		body := benchPurchase("items", n, "")
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeCancel(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
