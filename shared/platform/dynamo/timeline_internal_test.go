package dynamo

import (
	"testing"
	"time"
)

// A cursor is read from a URL: anything is refused or read back as a
// position that encodes to a cursor reading the same.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(position{Day: "2026-11-30", Before: TimelineSK(time.Unix(1, 0), "ORD-1")}))
	f.Add("")
	f.Add("e30")
	f.Add("eyJkIjoiMjAyNi0xMy0zMCJ9")
	f.Fuzz(func(t *testing.T, c string) {
		p, err := decodeCursor(c)
		if err != nil {
			return
		}
		q, err := decodeCursor(encodeCursor(p))
		if err != nil || q != p {
			t.Fatalf("%q read as %+v, which reads back as %+v, %v", c, p, q, err)
		}
	})
}

func TestTimelineKeys(t *testing.T) {
	tl := Timeline{PKAttr: "p", SKAttr: "s", Shards: 8}
	at := time.Date(2026, 11, 30, 23, 59, 59, 0, time.FixedZone("x", -3600))
	a := tl.Attrs([]string{"orders", "shop"}, "ORD-1", at)
	if StringAttr(a["p"]) != tl.PartitionKey([]string{"orders", "shop"}, "2026-12-01", Shard("ORD-1", 8)) {
		t.Fatalf("partition %q: the UTC day", StringAttr(a["p"]))
	}
	if TimelineSK(time.Unix(0, 5), "b") >= TimelineSK(time.Unix(0, 10), "a") {
		t.Fatal("sort keys do not follow time")
	}
}
