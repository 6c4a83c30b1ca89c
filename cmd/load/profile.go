package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Where the server's CPU time goes: each sample belongs to the first frame,
// from the leaf up, owned by one of these (so the allocations, JSON and
// garbage collection assists of a call count for whoever made it).
var owners = []struct{ name, prefix string }{
	{"embedded DynamoDB (minidyn, internal/dev/embeddeddb)", "github.com/truora/minidyn/"},
	{"embedded DynamoDB (minidyn, internal/dev/embeddeddb)", "github.com/tollgate-dev/tollgate/internal/dev/embeddeddb."},
	{"aws-sdk-go-v2 and smithy (serialize, sign, retry, deserialize)", "github.com/aws/"},
	{"Tollgate (handlers, shared/, access log)", "github.com/tollgate-dev/tollgate/"},
}

const (
	areaHTTP    = "net/http server (connections, reading requests, writing answers)"
	areaGC      = "garbage collector (background workers)"
	areaRuntime = "scheduler and other runtime"
	areaOther   = "other"
)

// trace is one stack of a CPU profile and its time.
type trace struct {
	d      time.Duration
	frames []string // leaf first
}

// printProfile prints where the server's CPU time went, by owner, and the
// top functions by flat time, from `go tool pprof -traces`.
func printProfile(w io.Writer, path string, top int) {
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(w, "\nno CPU profile of the server (%v)\n", err)
		return
	}
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	out, err := exec.CommandContext(context.Background(), goTool, "tool", "pprof", "-traces", path).Output()
	if err != nil {
		fmt.Fprintf(w, "\ngo tool pprof -traces %s: %v\n", path, err)
		return
	}
	traces := parseTraces(out)
	var total time.Duration
	area, flat := map[string]time.Duration{}, map[string]time.Duration{}
	for _, t := range traces {
		total += t.d
		area[areaOf(t.frames)] += t.d
		flat[t.frames[0]] += t.d
	}
	if total <= 0 {
		fmt.Fprintln(w, "\nthe server's CPU profile is empty")
		return
	}
	fmt.Fprintf(w, "\nserver CPU profile: %s of CPU; by owner (the first frame from the leaf that is theirs, allocation and GC assists included):\n", total.Round(10*time.Millisecond))
	printShares(w, area, total, len(area))
	fmt.Fprintf(w, "top %d functions by flat time:\n", top)
	printShares(w, flat, total, top)
}

func printShares(w io.Writer, m map[string]time.Duration, total time.Duration, n int) {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		return m[names[i]] > m[names[j]] || m[names[i]] == m[names[j]] && names[i] < names[j]
	})
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, k := range names[:min(n, len(names))] {
		fmt.Fprintf(tw, "  %5.1f%%\t%s\n", 100*float64(m[k])/float64(total), k)
	}
	tw.Flush()
}

func areaOf(frames []string) string {
	for _, f := range frames {
		for _, o := range owners {
			if strings.HasPrefix(f, o.prefix) {
				return o.name
			}
		}
	}
	for _, f := range frames {
		switch {
		case strings.HasPrefix(f, "net/http."):
			return areaHTTP
		case strings.HasPrefix(f, "runtime.gcBgMarkWorker"), strings.HasPrefix(f, "runtime.bgsweep"), strings.HasPrefix(f, "runtime.bgscavenge"):
			return areaGC
		}
	}
	if strings.HasPrefix(frames[len(frames)-1], "runtime.") {
		return areaRuntime
	}
	return areaOther
}

// parseTraces reads `go tool pprof -traces` output: blocks separated by
// dashed lines, the first line of each with the time and the leaf.
func parseTraces(out []byte) []trace {
	var (
		traces []trace
		cur    *trace
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			cur = nil
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if cur == nil {
			d, err := time.ParseDuration(f[0])
			if err != nil || len(f) < 2 {
				continue // the header
			}
			traces = append(traces, trace{d: d, frames: []string{f[1]}})
			cur = &traces[len(traces)-1]
			continue
		}
		cur.frames = append(cur.frames, f[0])
	}
	return traces
}
