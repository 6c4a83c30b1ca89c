package validate_test

import (
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/validate"
)

func TestEmail(t *testing.T) {
	local := strings.Repeat("a", 64)
	long := local + "@" + strings.Repeat("b", validate.MaxEmailLength-len(local)-1-len(".example")) + ".example"
	tests := []struct {
		addr string
		ok   bool
	}{
		{"buyer@example.com", true},
		{"a@b.example", true},
		{"first.last+tag@sub.example.co.uk", true},
		{long, true}, // exactly MaxEmailLength bytes
		{long + "x", false},
		{"", false},
		{"not-an-email", false},
		{"buyer@", false},
		{"@example.com", false},
		{"buyer example.com", false},
		{"Buyer <buyer@example.com>", false}, // a display name: not the bare address
		{"<buyer@example.com>", false},
		{" buyer@example.com", false},
		{"buyer@example.com ", false},
		{"buyer@example.com, other@example.com", false},
	}
	if len(long) != validate.MaxEmailLength {
		t.Fatalf("test address is %d bytes, want %d", len(long), validate.MaxEmailLength)
	}
	for _, tt := range tests {
		err := validate.Email(tt.addr)
		if (err == nil) != tt.ok || (err != nil && err != validate.ErrEmail) {
			t.Errorf("Email(%q) = %v, want accepted %v", tt.addr, err, tt.ok)
		}
	}
}
