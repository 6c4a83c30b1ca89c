package localenv

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// GCHeadroom is how much the heap of the local runner grows between two
// collections.
const GCHeadroom = 96 << 20

// PaceGC sets GOGC, every second until ctx ends, so that the heap grows by
// about headroom between collections whatever the live heap holds: as much
// as GOGC=400 gives a small heap, and no more for a large store, whose
// growth would otherwise make every request touch fresh memory (see
// BENCHMARKS.md, issue 10). A development server has memory to spare.
func PaceGC(ctx context.Context, headroom uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	last := 0
	pace := func() {
		metrics.Read(sample)
		pct := 400
		if sample[0].Value.Kind() == metrics.KindUint64 {
			if live := sample[0].Value.Uint64(); live > 0 {
				pct = int(min(max(100*headroom/live, 25), 400))
			}
		}
		if pct != last {
			debug.SetGCPercent(pct)
			last = pct
		}
	}
	pace()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				pace()
			}
		}
	}()
}
