package money

import (
	"errors"
	"testing"
)

func TestExponent(t *testing.T) {
	for code, want := range map[string]int{"JPY": 0, "GBP": 2, "KWD": 3, "USD": 2, "ISK": 0, "CLF": 4, "SLE": 2, "EUR": 2, "BHD": 3} {
		if got, err := Exponent(code); err != nil || got != want {
			t.Errorf("Exponent(%s) = %d, %v; want %d", code, got, err, want)
		}
	}
	for _, bad := range []string{"", "gbp", "ABC", "XAU", "XXX", "GBPX", "G"} {
		if _, err := Exponent(bad); !errors.Is(err, ErrCurrency) {
			t.Errorf("Exponent(%q): %v", bad, err)
		}
	}
}

func TestFormatAndParse(t *testing.T) {
	for _, c := range []struct {
		minor int64
		code  string
		text  string
	}{
		{2999, "GBP", "29.99"}, {5, "GBP", "0.05"}, {0, "GBP", "0.00"}, {1500, "JPY", "1500"}, {0, "JPY", "0"},
		{1250, "KWD", "1.250"}, {5, "KWD", "0.005"}, {MaxMinor, "GBP", "90071992547409.91"}, {-2999, "GBP", "-29.99"},
	} {
		got, err := Format(c.minor, c.code)
		if err != nil || got != c.text {
			t.Errorf("Format(%d, %s) = %q, %v; want %q", c.minor, c.code, got, err, c.text)
		}
		if c.minor < 0 {
			continue
		}
		back, err := Parse(c.text, c.code)
		if err != nil || back != c.minor {
			t.Errorf("Parse(%q, %s) = %d, %v; want %d", c.text, c.code, back, err, c.minor)
		}
	}
	for _, c := range []struct{ text, code string }{
		{"29.999", "GBP"}, {"1.5", "JPY"}, {"1.2345", "KWD"}, {"-1", "GBP"}, {"1e3", "GBP"}, {"", "GBP"}, {".5", "GBP"}, {"5.", "GBP"},
		{"90071992547409.92", "GBP"}, {"1", "XAU"}, {" 1", "GBP"},
	} {
		if n, err := Parse(c.text, c.code); err == nil {
			t.Errorf("Parse(%q, %s) = %d; want an error", c.text, c.code, n)
		}
	}
	if n, err := Parse("29.9", "GBP"); err != nil || n != 2990 {
		t.Errorf("Parse(29.9) = %d, %v", n, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"29.99", "0", "1.250", "1e5", "-1", "99999999999999999999"} {
		f.Add(s, "GBP")
	}
	f.Add("1.250", "KWD")
	f.Add("1500", "JPY")
	f.Fuzz(func(t *testing.T, s, code string) {
		n, err := Parse(s, code)
		if err != nil {
			return
		}
		if n < 0 || n > MaxMinor {
			t.Fatalf("Parse(%q, %s) = %d", s, code, n)
		}
		back, err := Format(n, code)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := Parse(back, code); err != nil || again != n {
			t.Fatalf("Parse(Format(%d)) = %d, %v", n, again, err)
		}
	})
}
