//go:build !race

package tax

// raceStride: a plain `go test` checks every .5 point (race_test.go).
const raceStride = 1
