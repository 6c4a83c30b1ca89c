package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// stats records each request's latency and outcome, per endpoint.
type stats struct {
	mu        sync.Mutex
	endpoints map[string]*endpointStats
}

type endpointStats struct {
	latencies []time.Duration
	outcomes  map[string]int // "200", "409", "error", ...
	skipped   int            // ticks dropped: the client was at its concurrency bound
}

func newStats() *stats { return &stats{endpoints: map[string]*endpointStats{}} }

func (s *stats) get(endpoint string) *endpointStats {
	e := s.endpoints[endpoint]
	if e == nil {
		e = &endpointStats{outcomes: map[string]int{}}
		s.endpoints[endpoint] = e
	}
	return e
}

func (s *stats) record(endpoint string, d time.Duration, outcome string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.get(endpoint)
	e.latencies = append(e.latencies, d)
	e.outcomes[outcome]++
}

func (s *stats) skip(endpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.get(endpoint).skipped++
}

// total is the number of requests sent.
func (s *stats) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.endpoints {
		n += len(e.latencies)
	}
	return n
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func msf(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// table prints throughput and latency per endpoint over elapsed, with the
// DynamoDB calls per request the server logged for each function.
func (s *stats) table(w io.Writer, elapsed time.Duration, order []string, functionOf map[string]string, calls map[string]map[int]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\trequests\treq/s\tp50\tp99\tmax\tanswers\tskipped\tDynamoDB calls/request (function)\t")
	var all []time.Duration
	for _, name := range order {
		e := s.endpoints[name]
		if e == nil {
			continue
		}
		lat := append([]time.Duration(nil), e.latencies...)
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		all = append(all, lat...)
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%d\t%s\t\n", name, len(lat), float64(len(lat))/elapsed.Seconds(),
			msf(percentile(lat, 0.50)), msf(percentile(lat, 0.99)), msf(percentile(lat, 1)), outcomes(e.outcomes), e.skipped,
			histogram(calls[functionOf[name]]))
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	fmt.Fprintf(tw, "all\t%d\t%.1f\t%s\t%s\t%s\t\t\t\t\n", len(all), float64(len(all))/elapsed.Seconds(),
		msf(percentile(all, 0.50)), msf(percentile(all, 0.99)), msf(percentile(all, 1)))
	tw.Flush()
}

func outcomes(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// histogram renders {calls: requests} as "1×812 2×40 (mean 1.05)".
func histogram(h map[int]int) string {
	if len(h) == 0 {
		return "-"
	}
	keys := make([]int, 0, len(h))
	n, sum := 0, 0
	for k, c := range h {
		keys = append(keys, k)
		n += c
		sum += k * c
	}
	sort.Ints(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", k, h[k]))
	}
	return fmt.Sprintf("%s (mean %.2f)", strings.Join(parts, " "), float64(sum)/float64(n))
}
