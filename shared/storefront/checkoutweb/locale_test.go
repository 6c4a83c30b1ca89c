package checkoutweb

import "testing"

func TestMoney(t *testing.T) {
	cases := []struct {
		lang, cur string
		minor     int64
		want      string
	}{
		{"en", "GBP", 2999, "£29.99"},
		{"en", "GBP", 123450, "£1,234.50"},
		{"en", "USD", 3499, "$34.99"},
		{"en", "JPY", 1500, "¥1,500"},
		{"de", "EUR", 123450, "1.234,50\u00a0€"},
		{"de", "GBP", 2999, "29,99\u00a0£"},
		{"en-GB,en;q=0.9", "EUR", 1999, "€19.99"},
		{"fr", "GBP", 5, "£0.05"}, // an unsupported language falls back to English
		// ISO 4217 exponents: JPY 0, KWD 3; large amounts stay exact.
		{"en", "JPY", 0, "¥0"},
		{"de", "JPY", 1234567, "1.234.567\u00a0¥"},
		{"en", "KWD", 1250, "KWD\u00a01.250"},
		{"de", "KWD", 5, "0,005\u00a0KWD"},
		{"en", "GBP", 1<<53 - 1, "£90,071,992,547,409.91"},
		{"en", "GBP", -2999, "£-29.99"},
	}
	for _, c := range cases {
		if got := newLocale(c.lang).Money(c.minor, c.cur); got != c.want {
			t.Errorf("%s Money(%d, %s) = %q, want %q", c.lang, c.minor, c.cur, got, c.want)
		}
	}
}

func TestEveryLanguageHasEveryText(t *testing.T) {
	for lang, w := range words {
		for key := range words["en"] {
			if _, ok := w[key]; !ok {
				t.Errorf("%s lacks %q", lang, key)
			}
		}
		if len(w) != len(words["en"]) {
			t.Errorf("%s has %d texts, English %d", lang, len(w), len(words["en"]))
		}
	}
}

func TestCountriesNamedInTheLanguage(t *testing.T) {
	find := func(l Locale, code string) string {
		for _, c := range l.Countries() {
			if c.Code == code {
				return c.Name
			}
		}
		return ""
	}
	if got := find(newLocale("de"), "DE"); got != "Deutschland" {
		t.Errorf("de: DE is %q", got)
	}
	if got := find(newLocale("en"), "DE"); got != "Germany" {
		t.Errorf("en: DE is %q", got)
	}
	if n := len(newLocale("en").Countries()); n < 240 {
		t.Errorf("%d countries", n)
	}
}
