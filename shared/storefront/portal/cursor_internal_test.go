package portal

import (
	"testing"
	"time"
)

// An audit cursor never panics its reader; what it accepts is a month and
// a sort key of the log's own shape, and every cursor the log gives reads
// back as itself.
func FuzzCursor(f *testing.F) {
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	f.Add(formatCursor(month, "20261130T235959.000000001Z#a1b2c3d4e5f6"))
	for _, s := range []string{"", "x", "AAAA", "!!", "MTowOjA", "Njo5OTk5OTk"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		m, sk, err := parseCursor(c)
		if err != nil {
			return
		}
		if m.Day() != 1 || m.Month() < 1 || m.Month() > 12 || len(sk) < len(auditTimeLayout) {
			t.Fatalf("accepted %q as %v %q", c, m, sk)
		}
		if again := formatCursor(m, sk); again != c {
			if m2, sk2, err := parseCursor(again); err != nil || !m2.Equal(m) || sk2 != sk {
				t.Fatalf("%q does not read back: %v %q %v", again, m2, sk2, err)
			}
		}
	})
}
