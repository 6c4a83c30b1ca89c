//go:build race

package tax

// raceStride: under the race detector (make test), which makes big.Rat
// about 10 times slower, TestComputeExact checks every 8th .5 point; a
// plain `go test` checks them all.
const raceStride = 8
