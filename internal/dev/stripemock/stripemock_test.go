package stripemock

import (
	"os"
	"regexp"
	"testing"
)

// TestMakefilePinsTheSameVersion: make tools installs the version the tests
// look for.
func TestMakefilePinsTheSameVersion(t *testing.T) {
	b, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^STRIPE_MOCK_VERSION\s*:=\s*(\S+)$`).FindSubmatch(b)
	if m == nil || string(m[1]) != Version {
		t.Fatalf("Makefile STRIPE_MOCK_VERSION %q, stripemock.Version %q", m, Version)
	}
}
