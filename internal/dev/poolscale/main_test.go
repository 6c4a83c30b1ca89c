package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A small run of the scale measurement: every order gets its own key,
// the pool's counts add up, and the report has its checkpoints and sizes.
func TestSmallRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, 3000, 1000, 3, "embedded"); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"over 3 shards", "every order got its own key", "the pool counts 1000 claimed and 2000 left", "item sizes (bytes): order row"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
