package decode_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
)

func TestInt64(t *testing.T) {
	tests := []struct {
		name    string
		body    string // {"n": ...}, or {} for an absent field
		set     bool
		want    int64
		wantMsg string // Value's refusal; "": accepted
	}{
		{"number", `{"n":12}`, true, 12, ""},
		{"negative", `{"n":-3}`, true, -3, ""},
		{"string", `{"n":"1795262400000"}`, true, 1795262400000, ""},
		{"string with sign and zeros", `{"n":"+007"}`, true, 7, ""},
		{"escaped string", `{"n":"\u0031\u0032"}`, true, 12, ""},
		{"int64 bounds", `{"n":"-9223372036854775808"}`, true, -1 << 63, ""},
		{"absent", `{}`, false, 0, `missing field "n"`},
		{"null", `{"n":null}`, false, 0, `missing field "n"`},
		{"fraction", `{"n":1.5}`, true, 0, `field "n" must be an integer, got 1.5`},
		{"exponent", `{"n":1e3}`, true, 0, `field "n" must be an integer, got 1e3`},
		{"out of range", `{"n":9223372036854775808}`, true, 0, `field "n" must be an integer, got 9223372036854775808`},
		{"string not a number", `{"n":"abc"}`, true, 0, `field "n" must be an integer, got "abc"`},
		{"long token cut", `{"n":"` + strings.Repeat("9", 40) + `"}`, true, 0, `field "n" must be an integer, got "` + strings.Repeat("9", 31) + `...`},
		{"boolean", `{"n":true}`, true, 0, `field "n" must be an integer, got true`},
		{"object", `{"n":{}}`, true, 0, `field "n" must be an integer, got {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst struct {
				N decode.Int64 `json:"n"`
			}
			if err := json.Unmarshal([]byte(tt.body), &dst); err != nil {
				t.Fatalf("decoding never fails, got %v", err)
			}
			if dst.N.Set() != tt.set {
				t.Errorf("Set() = %v, want %v", dst.N.Set(), tt.set)
			}
			got, err := dst.N.Value("n")
			v, ok := dst.N.Get()
			if tt.wantMsg != "" {
				if de := decodeError(t, err); de.Message != tt.wantMsg {
					t.Errorf("Value message = %q, want %q", de.Message, tt.wantMsg)
				}
				if ok {
					t.Errorf("Get() = %d, true for a refused value", v)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Value = %d, %v; want %d", got, err, tt.want)
			}
			if !ok || v != tt.want {
				t.Errorf("Get() = %d, %v; want %d, true", v, ok, tt.want)
			}
		})
	}
}

// A quoted token that is not a JSON string (only a direct call can pass
// one) is refused without quoting it.
func TestInt64BadString(t *testing.T) {
	var n decode.Int64
	if err := n.UnmarshalJSON([]byte(`"a\qb"`)); err != nil {
		t.Fatal(err)
	}
	_, err := n.Value("n")
	if de := decodeError(t, err); de.Message != `field "n" must be an integer` {
		t.Errorf("message = %q", de.Message)
	}
}
