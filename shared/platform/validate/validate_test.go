package validate_test

import (
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

func TestID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want error // nil: valid
	}{
		{"simple", "player-1", nil},
		{"one character", "x", nil},
		{"inner space", "a b", nil},
		{"punctuation", "txn_01:2024/01.a+b@c", nil},
		{"unicode", "épée_☃", nil},
		{"exactly 128 ASCII", strings.Repeat("a", 128), nil},
		{"exactly 128 two-byte runes", strings.Repeat("é", 128), nil},
		{"exactly 128 four-byte runes", strings.Repeat("🔑", 128), nil},
		{"empty", "", validate.ErrEmpty},
		{"129 ASCII", strings.Repeat("a", 129), validate.ErrTooLong},
		{"129 two-byte runes", strings.Repeat("é", 129), validate.ErrTooLong},
		{"too long beats invalid UTF-8", strings.Repeat("\xff", 129), validate.ErrTooLong},
		{"invalid UTF-8", "a\xffb", validate.ErrNotUTF8},
		{"truncated UTF-8", "ab\xc3", validate.ErrNotUTF8},
		{"UTF-8 encoded surrogate", "a\xed\xa0\x80", validate.ErrNotUTF8},
		{"NUL", "a\x00b", validate.ErrNotPrintable},
		{"newline", "a\nb", validate.ErrNotPrintable},
		{"tab", "a\tb", validate.ErrNotPrintable},
		{"DEL", "a\x7fb", validate.ErrNotPrintable},
		{"C1 control", "a\u0085b", validate.ErrNotPrintable},
		{"zero width space", "a\u200bb", validate.ErrNotPrintable},
		{"no-break space", "a\u00a0b", validate.ErrNotPrintable},
		// What JSON decoding makes of an escaped lone surrogate ("sur\ud800"
		// and "sur\udfff" both): refused, or the two would be one id.
		{"replacement character", "sur\ufffd", validate.ErrReplacement},
		{"replacement character first", "\ufffdx", validate.ErrReplacement},
		{"invalid UTF-8 beats replacement character", "\ufffd\xff", validate.ErrNotUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate.ID(tt.id); err != tt.want {
				t.Errorf("ID(%q) = %v, want %v", tt.id, err, tt.want)
			}
		})
	}
	if got, want := validate.ErrTooLong.Error(), "is longer than 128 characters"; got != want {
		t.Errorf("ErrTooLong = %q, want %q", got, want)
	}
}

func TestQuantity(t *testing.T) {
	tests := []struct {
		q       int64
		wantMsg string // "": valid
	}{
		{1, ""},
		{2, ""},
		{validate.MaxQuantity, ""},
		{0, "must be from 1 to 10000, got 0"},
		{-1, "must be from 1 to 10000, got -1"},
		{validate.MaxQuantity + 1, "must be from 1 to 10000, got 10001"},
		{-1 << 63, "must be from 1 to 10000, got -9223372036854775808"},
		{1<<63 - 1, "must be from 1 to 10000, got 9223372036854775807"},
	}
	for _, tt := range tests {
		err := validate.Quantity(tt.q)
		if tt.wantMsg == "" {
			if err != nil {
				t.Errorf("Quantity(%d) = %v, want nil", tt.q, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.wantMsg || !errors.Is(err, validate.ErrQuantity) {
			t.Errorf("Quantity(%d) = %v, want %q wrapping ErrQuantity", tt.q, err, tt.wantMsg)
		}
	}
}

func TestCurrency(t *testing.T) {
	tests := []struct {
		code      string
		wantExact bool   // Currency accepts it as it is
		wantFold  string // ParseCurrency's answer; "": refused
	}{
		{"USD", true, "USD"},
		{"JPY", true, "JPY"},
		{"usd", false, "USD"},
		{"Eur", false, "EUR"},
		{"", false, ""},
		{"US", false, ""},
		{"USDX", false, ""},
		{"US1", false, ""},
		{"U$D", false, ""},
		{"US ", false, ""},
		{"ÜSD", false, ""},    // two bytes: four in all
		{"\xffSD", false, ""}, // a byte that is no letter
		{"{SD", false, ""},    // 'Z'+1 and 'z'+1 are not letters
		{"@SD", false, ""},
		{"`SD", false, ""},
	}
	for _, tt := range tests {
		if err := validate.Currency(tt.code); (err == nil) != tt.wantExact || (err != nil && err != validate.ErrCurrency) {
			t.Errorf("Currency(%q) = %v, want accepted %v", tt.code, err, tt.wantExact)
		}
		got, err := validate.ParseCurrency(tt.code)
		switch {
		case tt.wantFold == "" && err != validate.ErrCurrency:
			t.Errorf("ParseCurrency(%q) = %q, %v; want ErrCurrency", tt.code, got, err)
		case tt.wantFold != "" && (err != nil || got != tt.wantFold):
			t.Errorf("ParseCurrency(%q) = %q, %v; want %q", tt.code, got, err, tt.wantFold)
		}
	}
}

func TestInteger(t *testing.T) {
	tests := []struct {
		tok   string
		want  int64
		err   error // Integer's refusal
		whole error // WholeNumber's refusal, where it differs (want then holds its value)
	}{
		{tok: "0", want: 0},
		{tok: "-0", want: 0},
		{tok: "42", want: 42},
		{tok: "-7", want: -7},
		{tok: "9223372036854775807", want: 1<<63 - 1},
		{tok: "-9223372036854775808", want: -1 << 63},
		{tok: "007", want: 7}, // not JSON, but what gRPC-gateway strings may hold
		{tok: "+5", want: 5},
		{tok: "9223372036854775808", err: validate.ErrOutOfRange},
		{tok: "-9223372036854775809", err: validate.ErrOutOfRange},
		{tok: "99999999999999999999", err: validate.ErrOutOfRange},

		{tok: "1e2", want: 100, err: validate.ErrNotInteger, whole: nil},
		{tok: "1E+2", want: 100, err: validate.ErrNotInteger, whole: nil},
		{tok: "2.0", want: 2, err: validate.ErrNotInteger, whole: nil},
		{tok: "1.0E1", want: 10, err: validate.ErrNotInteger, whole: nil},
		{tok: "2.50e1", want: 25, err: validate.ErrNotInteger, whole: nil},
		{tok: "0.5e1", want: 5, err: validate.ErrNotInteger, whole: nil},
		{tok: "12300e-2", want: 123, err: validate.ErrNotInteger, whole: nil},
		{tok: "-3.0", want: -3, err: validate.ErrNotInteger, whole: nil},
		{tok: "+1.5e1", want: 15, err: validate.ErrNotInteger, whole: nil},
		{tok: "007.0", want: 7, err: validate.ErrNotInteger, whole: nil},
		{tok: "15.0", want: 15, err: validate.ErrNotInteger, whole: nil},
		{tok: "0.0", want: 0, err: validate.ErrNotInteger, whole: nil},
		{tok: "-0e99999999999", want: 0, err: validate.ErrNotInteger, whole: nil},
		{tok: "9007199254740993.0", want: 9007199254740993, err: validate.ErrNotInteger, whole: nil},
		{tok: "9223372036854775807.0", want: 1<<63 - 1, err: validate.ErrNotInteger, whole: nil},
		{tok: "-9.223372036854775808e18", want: -1 << 63, err: validate.ErrNotInteger, whole: nil},

		{tok: "1.5", err: validate.ErrNotInteger, whole: validate.ErrNotInteger},
		{tok: "0.1", err: validate.ErrNotInteger, whole: validate.ErrNotInteger},
		{tok: "1e-1", err: validate.ErrNotInteger, whole: validate.ErrNotInteger},
		{tok: "1e-400", err: validate.ErrNotInteger, whole: validate.ErrNotInteger},
		{tok: "1.0000000000000000001", err: validate.ErrNotInteger, whole: validate.ErrNotInteger},
		{tok: "1e30", err: validate.ErrNotInteger, whole: validate.ErrOutOfRange},
		{tok: "1e400", err: validate.ErrNotInteger, whole: validate.ErrOutOfRange},
		{tok: "1e99999999999999999999", err: validate.ErrNotInteger, whole: validate.ErrOutOfRange},
		{tok: "9223372036854775808.0", err: validate.ErrNotInteger, whole: validate.ErrOutOfRange},
		{tok: "20000000000000000000.1", err: validate.ErrNotInteger, whole: validate.ErrNotInteger},
		{tok: "-9.223372036854775809e18", err: validate.ErrNotInteger, whole: validate.ErrOutOfRange},

		// Not numbers: other JSON values, and what the JSON grammar refuses.
		{tok: "", err: validate.ErrNotNumber},
		{tok: `"1"`, err: validate.ErrNotNumber},
		{tok: "true", err: validate.ErrNotNumber},
		{tok: "null", err: validate.ErrNotNumber},
		{tok: "{}", err: validate.ErrNotNumber},
		{tok: "[1]", err: validate.ErrNotNumber},
		{tok: " 1", err: validate.ErrNotNumber},
		{tok: "+x", err: validate.ErrNotNumber},
		{tok: "--1", err: validate.ErrNotNumber},
		{tok: "-", err: validate.ErrNotNumber},
		{tok: "1_000", err: validate.ErrNotInteger, whole: validate.ErrNotNumber},
		{tok: "1.", err: validate.ErrNotInteger, whole: validate.ErrNotNumber},
		{tok: "1e", err: validate.ErrNotInteger, whole: validate.ErrNotNumber},
		{tok: "1e+", err: validate.ErrNotInteger, whole: validate.ErrNotNumber},
		{tok: "+1.5", err: validate.ErrNotInteger, whole: validate.ErrNotInteger},
		{tok: "01.5", err: validate.ErrNotInteger, whole: validate.ErrNotInteger},
		{tok: ".5", err: validate.ErrNotNumber},
		{tok: "1.e1", err: validate.ErrNotInteger, whole: validate.ErrNotNumber},
		{tok: "Infinity", err: validate.ErrNotNumber},
		{tok: "NaN", err: validate.ErrNotNumber},
		{tok: "1.2.3", err: validate.ErrNotInteger, whole: validate.ErrNotNumber},
		{tok: "0x10", err: validate.ErrNotInteger, whole: validate.ErrNotNumber},
	}
	for _, tt := range tests {
		t.Run(tt.tok, func(t *testing.T) {
			got, err := validate.Integer([]byte(tt.tok))
			if err != tt.err || (err == nil && got != tt.want) {
				t.Errorf("Integer(%q) = %d, %v; want %d, %v", tt.tok, got, err, tt.want, tt.err)
			}
			wantWhole := tt.err
			if tt.err == validate.ErrNotInteger {
				wantWhole = tt.whole
			}
			got, err = validate.WholeNumber([]byte(tt.tok))
			if err != wantWhole || (err == nil && got != tt.want) {
				t.Errorf("WholeNumber(%q) = %d, %v; want %d, %v", tt.tok, got, err, tt.want, wantWhole)
			}
		})
	}
}

// A number that is not whole comes with its value rounded toward zero,
// clamped to the int64 range.
func TestWholeNumberNotWhole(t *testing.T) {
	tests := []struct {
		tok  string
		want int64
	}{
		{"1.5", 1},
		{"-1.5", -1},
		{"0.5", 0},
		{"-0.5", 0},
		{"1e-400", 0},
		{"9999.99999999999999999", 9999},
		{"10000.5", 10000},
		{"1.0000000000000000001", 1},
		{"2.50e0", 2},
		{"12345e-2", 123},
		{"+7.25", 7},
		{"9223372036854775807.5", 1<<63 - 1},
		{"9223372036854775808.5", 1<<63 - 1},
		{"20000000000000000000.1", 1<<63 - 1},
		{"-9223372036854775808.5", -1 << 63},
		{"-20000000000000000000.1", -1 << 63},
	}
	for _, tt := range tests {
		got, err := validate.WholeNumber([]byte(tt.tok))
		if err != validate.ErrNotInteger || got != tt.want {
			t.Errorf("WholeNumber(%q) = %d, %v; want %d, ErrNotInteger", tt.tok, got, err, tt.want)
		}
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		tag string
		ok  bool
	}{
		{"en", true},
		{"EN", true},
		{"pt-BR", true},
		{"zh-Hant-TW", true},
		{"es-419", true},
		{"abcdefgh", true},
		{"en-x", true},
		{"en" + strings.Repeat("-abcdefg", 4) + "h", true}, // 35 characters
		{"en" + strings.Repeat("-abcdefg", 4) + "-a", false},
		{"", false},
		{"e", false},
		{"abcdefghi", false},
		{"en-abcdefghi", false},
		{"en--US", false},
		{"en-", false},
		{"-en", false},
		{"12", false},
		{"e1", false},
		{"en_US", false},
		{"en US", false},
		{"én", false},
	}
	for _, tt := range tests {
		err := validate.Language(tt.tag)
		if (err == nil) != tt.ok || (err != nil && err != validate.ErrLanguage) {
			t.Errorf("Language(%q) = %v, want accepted %v", tt.tag, err, tt.ok)
		}
	}
	if got, want := validate.ErrLanguage.Error(), `must be a language tag such as "en" or "pt-BR" (2 to 35 characters)`; got != want {
		t.Errorf("ErrLanguage = %q, want %q", got, want)
	}
}

// FuzzWholeNumber checks WholeNumber against exact rational arithmetic on
// JSON numbers, and that nothing else makes it panic.
func FuzzWholeNumber(f *testing.F) {
	for _, s := range []string{"0", "12", "-3", "1e2", "2.50e1", "1.5", "1e-3", "1e30", "9223372036854775807.0", "-9.223372036854775808e18", "0.000e5", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := validate.WholeNumber([]byte(s))
		if !jsonNumber(s) {
			return
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("big.Rat refuses %q", s)
		}
		switch {
		case !r.IsInt():
			// Quo rounds toward zero.
			trunc := new(big.Int).Quo(r.Num(), r.Denom())
			want := int64(math.MaxInt64)
			switch {
			case trunc.IsInt64():
				want = trunc.Int64()
			case trunc.Sign() < 0:
				want = math.MinInt64
			}
			if err != validate.ErrNotInteger || n != want {
				t.Fatalf("WholeNumber(%q) = %d, %v; want %d, ErrNotInteger", s, n, err, want)
			}
		case !r.Num().IsInt64():
			if err != validate.ErrOutOfRange {
				t.Fatalf("WholeNumber(%q) = %d, %v; want ErrOutOfRange", s, n, err)
			}
		case err != nil || n != r.Num().Int64():
			t.Fatalf("WholeNumber(%q) = %d, %v; want %s", s, n, err, r.Num())
		}
	})
}

// jsonNumber reports whether s is a number WholeNumber reads (a JSON number,
// a "+" sign and leading zeros allowed) small enough for big.Rat: at most 64
// bytes, an exponent of at most 3 digits.
func jsonNumber(s string) bool {
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	if hasExp {
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			exp = exp[1:]
		}
		if !digits(exp) || len(exp) > 3 {
			return false
		}
	}
	intPart, frac, hasFrac := strings.Cut(mant, ".")
	return len(s) <= 64 && digits(intPart) && (!hasFrac || digits(frac))
}
