package decode_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
)

// decodeError asserts err is (or wraps) a *decode.Error whose Error() is its
// message.
func decodeError(t *testing.T, err error) *decode.Error {
	t.Helper()
	var de *decode.Error
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *decode.Error", err, err)
	}
	if de.Error() != de.Message {
		t.Errorf("Error() = %q, want the message %q", de.Error(), de.Message)
	}
	return de
}

func TestErrorf(t *testing.T) {
	de := decodeError(t, fmt.Errorf("step: %w", decode.Errorf("field %q is %d", "x", 3)))
	if de.Message != `field "x" is 3` {
		t.Errorf("Errorf = %+v", de)
	}
}

func TestID(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		wantMsg string // "" means valid
	}{
		{"simple", "player-1", ""},
		{"one character", "x", ""},
		{"inner space", "a b", ""},
		{"punctuation", "txn_01:2024/01.a+b@c", ""},
		{"exactly 128 ASCII", strings.Repeat("a", 128), ""},
		{"exactly 128 multibyte runes", strings.Repeat("é", 128), ""},
		{"exactly 128 four-byte runes", strings.Repeat("🔑", 128), ""},
		{"empty", "", `field "id" must not be empty`},
		{"129 ASCII", strings.Repeat("a", 129), `field "id" is longer than 128 characters`},
		{"129 multibyte runes", strings.Repeat("é", 129), `field "id" is longer than 128 characters`},
		{"NUL", "a\x00b", `field "id" holds a control or non-printable character`},
		{"newline", "a\nb", `field "id" holds a control or non-printable character`},
		{"tab", "a\tb", `field "id" holds a control or non-printable character`},
		{"DEL", "a\x7fb", `field "id" holds a control or non-printable character`},
		{"C1 control", "a\u0085b", `field "id" holds a control or non-printable character`},
		{"zero width space", "a\u200bb", `field "id" holds a control or non-printable character`},
		{"invalid UTF-8", "a\xffb", `field "id" is not valid UTF-8`},
		{"truncated UTF-8", "ab\xc3", `field "id" is not valid UTF-8`},
		{"UTF-8 encoded surrogate", "a\xed\xa0\x80", `field "id" is not valid UTF-8`},
		{"replacement character", "sur\ufffd", `field "id" holds a replacement character (U+FFFD): a lone surrogate escape or a character lost in encoding`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decode.ID("id", tt.id)
			if tt.wantMsg == "" {
				if err != nil {
					t.Errorf("ID(%q) = %v, want nil", tt.id, err)
				}
				return
			}
			if de := decodeError(t, err); de.Message != tt.wantMsg {
				t.Errorf("ID(%q) message = %q, want %q", tt.id, de.Message, tt.wantMsg)
			}
		})
	}
}

func TestNull(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{"", true},
		{"null", true},
		{" \n\tnull\r\n", true},
		{"  ", true},
		{`"null"`, false},
		{"0", false},
		{"{}", false},
		{"[]", false},
		{`""`, false},
		{"nul", false},
		{"nullx", false},
	}
	for _, tt := range tests {
		if got := decode.Null([]byte(tt.raw)); got != tt.want {
			t.Errorf("Null(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
	if !decode.Null(nil) {
		t.Error("Null(nil) = false, want true")
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 4, ""},
		{"abcd", 4, "abcd"},
		{"abcde", 4, "abcd..."},
		{strings.Repeat("x", 40), 32, strings.Repeat("x", 32) + "..."},
		{"ééé", 3, "é\xc3..."}, // bytes, not characters: a message quotes it with %q
	}
	for _, tt := range tests {
		if got := decode.Truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct {
		tok  string
		want string
		ok   bool
	}{
		{`"abc"`, "abc", true},
		{`""`, "", true},
		{`"12"`, "12", true},
		{`"a\"b"`, `a"b`, true},
		{`"\u00e9t\u00e9"`, "été", true},
		{`"tab\t"`, "tab\t", true},
		{`"\ud800"`, "\ufffd", true}, // encoding/json's answer to a lone surrogate
		{`"abc`, "", false},
		{`"a\qb"`, "", false},
		{"\"a\x01b\"", "", false},
		{`"`, "", false},
		{``, "", false},
		{`12`, "", false},
		{`null`, "", false},
		{`true`, "", false},
		{`["a"]`, "", false},
	}
	for _, tt := range tests {
		got, ok := decode.Unquote([]byte(tt.tok))
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("Unquote(%q) = %q, %v; want %q, %v", tt.tok, got, ok, tt.want, tt.ok)
		}
	}
}

// A plain string is returned as a slice of the token: decoding Stash's
// int64 and enum fields allocates nothing for it.
func TestUnquotePlainNoAllocation(t *testing.T) {
	tok := []byte(`"PAYMENT_ENVIRONMENT_TEST"`)
	if n := testing.AllocsPerRun(100, func() { decode.Unquote(tok) }); n != 0 {
		t.Errorf("Unquote of a plain string allocates %v times", n)
	}
}
