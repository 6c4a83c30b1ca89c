package embeddeddb

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestColdStore: what is put is got back, through replacements, removals
// and compactions, and slices got earlier stay as they were.
func TestColdStore(t *testing.T) {
	s := newColdStore()
	want := map[string][]byte{}
	r := rand.New(rand.NewPCG(3, 4))
	var kept [][2][]byte // slices got, and what they held
	for i := range 20000 {
		k := fmt.Sprintf("k%d", r.IntN(500))
		switch r.IntN(4) {
		case 0:
			s.remove(k)
			delete(want, k)
		default:
			v := bytes.Repeat([]byte{byte(i)}, 1+r.IntN(3000))
			s.put(k, v)
			want[k] = v
		}
		if i%1000 == 0 {
			if got, ok := s.get(k); ok {
				kept = append(kept, [2][]byte{got, bytes.Clone(got)})
			}
		}
	}
	if len(s.at) != len(want) {
		t.Fatalf("%d partitions, want %d", len(s.at), len(want))
	}
	for k, v := range want {
		if got, ok := s.get(k); !ok || !bytes.Equal(got, v) {
			t.Fatalf("%s: %d bytes, want %d", k, len(got), len(v))
		}
	}
	for i, kv := range kept {
		if !bytes.Equal(kv[0], kv[1]) {
			t.Fatalf("slice %d changed after it was got", i)
		}
	}
	if s.garbage > chunkSize && s.garbage > s.live {
		t.Errorf("garbage %d over live %d: not compacted", s.garbage, s.live)
	}
}
