package apikey

import (
	"strings"
	"testing"
)

func TestNewKeys(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k, err := New("sk_test_")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k, "sk_test_") || len(k) != len("sk_test_")+43 || seen[k] {
			t.Fatalf("key %q: want a fresh sk_test_ key of 43 random characters", k)
		}
		seen[k] = true
		if !Valid(k, "sk_test_") || Valid(k, "sk_live_") {
			t.Errorf("Valid(%q) wrong for its own and another prefix", k)
		}
		if d := Of(k); !d.Matches(k) || d.Matches(k+"x") || d.Matches(strings.ToUpper(k)) {
			t.Errorf("digest of %q matches wrongly", k)
		}
	}
}

// Known answers: the digest is plain SHA-256, so a key stored by one
// version is found by the next.
func TestDigestVectors(t *testing.T) {
	tests := []struct{ key, digest, id string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "e3b0c44298fc"},
		{"sk_test_local_only_1", "ab7dc7cd86c77f3d319d1edbcc13833e1f06e1da5ab0d4d2a69b691379d79f72", "ab7dc7cd86c7"},
	}
	for _, tt := range tests {
		if d := Of(tt.key); string(d) != tt.digest || d.ID() != tt.id {
			t.Errorf("Of(%q) = %s (%s), want %s (%s)", tt.key, d, d.ID(), tt.digest, tt.id)
		}
	}
}

func TestValidRefuses(t *testing.T) {
	for _, k := range []string{"", "sk_test_", "sk_test_short", "sk_test_" + strings.Repeat("a", 42) + "!", "pk_test_" + strings.Repeat("a", 43), "sk_test_" + strings.Repeat("a", 44)} {
		if Valid(k, "sk_test_") {
			t.Errorf("Valid(%q) = true", k)
		}
	}
}
