package stores

import (
	"reflect"
	"testing"
)

func TestShardsFor(t *testing.T) {
	for _, c := range []struct {
		total   int64
		setting int
		want    int
	}{
		{0, 0, 1}, {1, 0, 1}, {1000, 0, 1}, {1001, 0, 2}, {100_000, 0, 64}, {1_000_000, 0, 64},
		{10, 8, 8}, {10, 200, MaxPoolShards}, {5000, 1, 1},
	} {
		if got := ShardsFor(c.total, c.setting); got != c.want {
			t.Errorf("ShardsFor(%d, %d) = %d, want %d", c.total, c.setting, got, c.want)
		}
	}
}

// New keys fill the emptiest shards first, up to the same level, and are
// all placed.
func TestSpread(t *testing.T) {
	for _, c := range []struct {
		name   string
		left   []int64 // keys left in each shard
		n      int64
		want   map[int]int64
		levels []int64 // keys left after
	}{
		{"empty shards share evenly", []int64{0, 0, 0, 0}, 10, map[int]int64{0: 3, 1: 3, 2: 2, 3: 2}, []int64{3, 3, 2, 2}},
		{"the emptiest first", []int64{5, 0, 2}, 4, map[int]int64{1: 3, 2: 1}, []int64{5, 3, 3}},
		{"raised to the fullest, then shared", []int64{5, 0, 2}, 11, map[int]int64{0: 1, 1: 6, 2: 4}, []int64{6, 6, 6}},
		{"one shard", []int64{7}, 3, map[int]int64{0: 3}, []int64{10}},
		{"nothing to place", []int64{1, 2}, 0, map[int]int64{0: 0}, []int64{1, 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			shards := map[int]shardState{}
			for i, l := range c.left {
				shards[i] = shardState{next: 100, end: 100 + l, active: true}
			}
			got := spread(Product{PoolShards: len(c.left)}, shards, c.n)
			var placed int64
			levels := make([]int64, len(c.left))
			for i := range c.left {
				placed += got[i]
				levels[i] = c.left[i] + got[i]
			}
			if placed != c.n || !reflect.DeepEqual(levels, c.levels) {
				t.Errorf("spread %v over %v = %v (levels %v), want levels %v", c.n, c.left, got, levels, c.levels)
			}
		})
	}
}
