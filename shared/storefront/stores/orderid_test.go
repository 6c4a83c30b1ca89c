package stores_test

import (
	"testing"

	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Order ids are stored and given to buyers: a known answer no change may move.
func TestOrderIDKnownAnswer(t *testing.T) {
	if got, want := stores.OrderID("demo-store", "ext-1"), "ORD-TQ2SH8V8E6YB"; got != want {
		t.Errorf("OrderID = %s, want %s", got, want)
	}
}
