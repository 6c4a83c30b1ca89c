package portalweb

import (
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// The orders list's query string, as anyone may type it: refused as bad
// input (a 400) or read as a filter the list can use, never a panic.
func FuzzOrdersQuery(f *testing.F) {
	for _, seed := range []string{"", "status=refunded&source=checkout&from=2026-11-01&to=2026-11-30", "q=buyer%40example.com",
		"status=paid", "from=30%2F11%2F2026", "from=2026-12-01&to=2026-11-01", "cursor=eyJkIjoiMjAyNi0xMS0zMCJ9", "q=%3Cscript%3E"} {
		f.Add(seed)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		in, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		page, filter, err := ordersQuery(in, now)
		var bad *badRequest
		switch {
		case err == nil:
			if (filter.Status != "" && !slices.Contains(stores.OrderStatuses, filter.Status)) || (filter.Source != "" && !slices.Contains(stores.OrderSources, filter.Source)) ||
				filter.From.IsZero() || (!filter.To.IsZero() && filter.To.Before(filter.From)) || len(page.Query) > 254 {
				t.Fatalf("%q accepted as %+v", raw, filter)
			}
		case errors.As(err, &bad), errors.Is(err, stores.ErrBadFilter):
		default:
			t.Fatalf("%q: %v, want a 400", raw, err)
		}
	})
}
