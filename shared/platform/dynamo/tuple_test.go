package dynamo

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"testing/quick"
)

func TestTuple(t *testing.T) {
	tests := []struct {
		parts []string
		want  string
	}{
		{nil, ""},
		{[]string{""}, "0:"},
		{[]string{"a", "1"}, "1:a1:1"},
		{[]string{"a*1|b", "1"}, "5:a*1|b1:1"},
		{[]string{"rk-ord", "1#2"}, "6:rk-ord3:1#2"},
		{[]string{"rk-ord#1", "2"}, "8:rk-ord#11:2"},
		{[]string{"clé", "x:y"}, "4:clé3:x:y"},
	}
	for _, tt := range tests {
		got := Tuple(tt.parts...)
		if got != tt.want {
			t.Errorf("Tuple(%q) = %q, want %q", tt.parts, got, tt.want)
		}
		back, err := SplitTuple(got)
		if err != nil || !slices.Equal(back, append([]string{}, tt.parts...)) {
			t.Errorf("SplitTuple(%q) = %q, %v; want %q", got, back, err, tt.parts)
		}
	}
	// The collisions of pasted keys are distinct tuples.
	pairs := [][2][]string{
		{{"a", "1", "b", "1"}, {"a*1|b", "1"}},
		{{"rk-ord", "1#2"}, {"rk-ord#1", "2"}},
		{{"ab", "c"}, {"a", "bc"}},
		{{"", "a"}, {"a", ""}},
	}
	for _, p := range pairs {
		if Tuple(p[0]...) == Tuple(p[1]...) {
			t.Errorf("Tuple(%q) == Tuple(%q)", p[0], p[1])
		}
	}
	for _, bad := range []string{"x", "1", "2:a", ":a", "-1:", "01:a", "1:ab:", "+1:a", "-0:"} {
		if parts, err := SplitTuple(bad); err == nil {
			t.Errorf("SplitTuple(%q) = %q, want an error", bad, parts)
		}
	}
}

// TestTupleIsInjective: distinct tuples never encode alike (quick check
// over random part lists, including parts made of the encoding's own
// digits and colons).
func TestTupleIsInjective(t *testing.T) {
	roundTrip := func(parts []string) bool {
		back, err := SplitTuple(Tuple(parts...))
		return err == nil && slices.Equal(back, append([]string{}, parts...))
	}
	if err := quick.Check(roundTrip, &quick.Config{MaxCount: 5000}); err != nil {
		t.Fatal(err)
	}
	distinct := func(a, b []string) bool {
		return slices.Equal(a, b) == (Tuple(a...) == Tuple(b...))
	}
	if err := quick.Check(distinct, &quick.Config{MaxCount: 5000}); err != nil {
		t.Fatal(err)
	}
}

// FuzzTuple: any list of parts (here, the fuzz input cut at its 0x00
// bytes, so parts hold digits, colons and every separator the ids may
// carry) comes back whole, and a string that is not an encoding is
// refused rather than misread.
func FuzzTuple(f *testing.F) {
	for _, seed := range []string{"", "a\x001", "a*1|b\x001", "rk-ord#1\x002", "1:a\x00:", "\x00\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		parts := splitZero(in)
		enc := Tuple(parts...)
		back, err := SplitTuple(enc)
		if err != nil || !slices.Equal(back, parts) {
			t.Fatalf("SplitTuple(Tuple(%q)) = %q, %v", parts, back, err)
		}
		if parts2, err := SplitTuple(in); err == nil && Tuple(parts2...) != in {
			t.Fatalf("SplitTuple accepted %q as %q, which encodes as %q", in, parts2, Tuple(parts2...))
		}
	})
}

func splitZero(s string) []string {
	parts := []string{}
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// Fingerprints are stored (idempotency records, order ids): known answers
// of sha256(Tuple(parts)) that no change may move.
func TestFingerprint(t *testing.T) {
	tests := []struct {
		parts []string
		want  string
	}{
		{nil, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{[]string{""}, "ba768b331fd86cec803be04e56ab2b3d4c0e98ef4ee4fcd4e72ad7cce61a1d1f"},
		{[]string{"order", "demo-store", "ext-1"}, "d5c598a36871bcb958e920896f7aecef3195caecddd4c68e70d98e4a82e5045e"},
		{[]string{"a:b", "1:c", "é€"}, "f0da71ce4d946f08a7caa9646ec3bccaebc2c61443392f901ad6fdf06e24df40"},
		{[]string{"GET", "/v1/payments", "test", `{"a":1}`}, "120f66b00fdae341d23b83fce069dfd580ef443e85c4e57093be40069dd3c3bf"},
	}
	for _, tt := range tests {
		if got := Fingerprint(tt.parts...); got != tt.want {
			t.Errorf("Fingerprint(%q) = %s, want %s", tt.parts, got, tt.want)
		}
		sum := FingerprintSum(tt.parts...)
		if got := hex.EncodeToString(sum[:]); got != tt.want {
			t.Errorf("FingerprintSum(%q) = %s, want %s", tt.parts, got, tt.want)
		}
	}
}

func TestFingerprintDistinguishes(t *testing.T) {
	if got := Fingerprint("a", "b"); got != Fingerprint("a", "b") || len(got) != 64 || strings.Trim(got, "0123456789abcdef") != "" {
		t.Fatalf("Fingerprint = %q, want the same 64 hex digits every time", got)
	}
	tests := []struct {
		name string
		a, b []string
	}{
		{"boundaries matter", []string{"ab", "c"}, []string{"a", "bc"}},
		{"an empty part counts", []string{"a", ""}, []string{"a"}},
		{"order matters", []string{"a", "b"}, []string{"b", "a"}},
		{"no parts is not one empty part", nil, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if Fingerprint(tt.a...) == Fingerprint(tt.b...) {
				t.Errorf("Fingerprint(%q) == Fingerprint(%q)", tt.a, tt.b)
			}
		})
	}
}
