// Command lambdaemu runs functions' real Lambda binaries (bootstrap) on this
// machine behind a Lambda Runtime API emulator, against embedded minidyn with
// the template's tables and the sample catalog, and measures their cold
// starts: exec → first answer, peak resident memory (VmHWM, read while the
// runtime waits for its next event), and the bootstrap's size.
//
//	go run ./cmd/lambdaemu -coldstart [-runs 5]      # every function: the table of make coldstart
//	go run ./cmd/lambdaemu -fn RegisterFunction -event events/register.json [-binary PATH] [-resign]
//
// Binaries run here are built for this machine (make coldstart builds them
// into .build/host/<Function>/bootstrap with the deploy flags): the deployed
// binary is linux/arm64, which this amd64 machine cannot run; its size is
// reported from .build/<Function>/bootstrap (make build).
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/lambdaemu"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// Targets of issue #6.
const (
	targetFirstResponse = 20 * time.Millisecond
	targetPeakRSS       = 30 << 20
	targetBootstrap     = 10 << 20
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "lambdaemu:", err)
		os.Exit(1)
	}
}

type options struct {
	fn, event, binary  string
	resign, coldstart  bool
	runs               int
	hostDir, arm64Dir  string
	eventsDir          string
	timeout            time.Duration
	verbose            bool
	onlyFunctionsNamed string
}

func run() error {
	var o options
	flag.StringVar(&o.fn, "fn", "", "function logical id or short name (one invocation, its answer printed)")
	flag.StringVar(&o.event, "event", "", "event file for -fn")
	flag.StringVar(&o.binary, "binary", "", "bootstrap for -fn (default <host-dir>/<Function>/bootstrap)")
	flag.BoolVar(&o.resign, "resign", false, "re-sign a Stash v1 signature in the event at the current time (the fixtures' go stale)")
	flag.BoolVar(&o.coldstart, "coldstart", false, "measure every function's cold start and print the table")
	flag.IntVar(&o.runs, "runs", 5, "cold starts per function")
	flag.StringVar(&o.hostDir, "host-dir", ".build/host", "where the bootstraps built for this machine are (<dir>/<Function>/bootstrap)")
	flag.StringVar(&o.arm64Dir, "arm64-dir", ".build", "where the linux/arm64 bootstraps are, for their size (make build)")
	flag.StringVar(&o.eventsDir, "events", "events", "the event fixtures (fixtures.json says which is whose)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "bound of one invocation")
	flag.BoolVar(&o.verbose, "v", false, "pass the functions' logs to stderr")
	flag.StringVar(&o.onlyFunctionsNamed, "only", "", "with -coldstart: comma-separated functions to measure (default all)")
	flag.Parse()
	switch {
	case o.coldstart:
		return coldStarts(o)
	case o.fn != "" && o.event != "":
		return invokeOnce(o)
	}
	flag.Usage()
	return errors.New("give -coldstart, or -fn and -event")
}

// newStack starts a fresh local stack: embedded minidyn, the template's
// tables, the sample catalog, the development keys (or their variables).
func newStack(ctx context.Context) (*localenv.Stack, error) {
	return localenv.Start(ctx, localenv.Config{Catalog: catalog.Sample, Stores: stores.Sample, Logger: localenv.Discard})
}

func invokeOnce(o options) error {
	event, err := os.ReadFile(o.event)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	stack, err := newStack(ctx)
	if err != nil {
		return err
	}
	defer stack.Close()
	id, err := stack.ResolveFunction(o.fn)
	if err != nil {
		return err
	}
	if o.resign {
		if event, err = resign(event, []byte(stack.Keys[secrets.StashEgressKey]), time.Now()); err != nil {
			return err
		}
	}
	binary := o.binary
	if binary == "" {
		binary = filepath.Join(o.hostDir, id, "bootstrap")
	}
	res, cs, err := lambdaemu.Invoke(ctx, stack, id, binary, event, os.Stderr)
	if err != nil {
		return err
	}
	printAnswer(os.Stdout, res)
	fmt.Fprintf(os.Stderr, "lambdaemu: %s (%s/%s binary): first answer %v after exec (init %v), peak RSS %s\n",
		id, runtime.GOOS, runtime.GOARCH, cs.FirstResponse.Round(10*time.Microsecond), cs.Init.Round(10*time.Microsecond), mb(cs.Memory.Peak))
	return nil
}

// printAnswer prints the runtime's answer indented, as sam local invoke
// prints a function's result.
func printAnswer(w io.Writer, res lambdaemu.Result) {
	if res.Error {
		fmt.Fprintf(w, "function error (%s):\n", res.ErrorType)
	}
	var out bytes.Buffer
	if json.Indent(&out, res.Payload, "", "  ") != nil {
		out.Reset()
		out.Write(res.Payload)
	}
	fmt.Fprintln(w, out.String())
}

// measurement is one function's cold starts.
type measurement struct {
	id, event, status string
	init, first       []time.Duration
	peak              int64
	hostSize, armSize int64
	err               error
}

func coldStarts(o options) error {
	probe, err := newStack(context.Background())
	if err != nil {
		return err
	}
	ids := probe.Template.FunctionIDs()
	probe.Close()
	if o.onlyFunctionsNamed != "" {
		ids = strings.Split(o.onlyFunctionsNamed, ",")
	}
	events, err := chooseEvents(o.eventsDir)
	if err != nil {
		return err
	}
	var ms []measurement
	failed := 0
	for _, id := range ids {
		m := measureFunction(o, id, events[id])
		if m.err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "lambdaemu: %s: %v\n", id, m.err)
		}
		ms = append(ms, m)
	}
	printTable(os.Stdout, o, ms)
	if failed > 0 {
		return fmt.Errorf("%d of %d functions could not be measured", failed, len(ids))
	}
	return nil
}

func measureFunction(o options, id, eventFile string) measurement {
	m := measurement{id: id, event: eventFile}
	binary := filepath.Join(o.hostDir, id, "bootstrap")
	if st, err := os.Stat(binary); err == nil {
		m.hostSize = st.Size()
	}
	if st, err := os.Stat(filepath.Join(o.arm64Dir, id, "bootstrap")); err == nil {
		m.armSize = st.Size()
	}
	if eventFile == "" {
		m.err = fmt.Errorf("no event fixture for %s in %s/fixtures.json", id, o.eventsDir)
		return m
	}
	raw, err := os.ReadFile(filepath.Join(o.eventsDir, eventFile))
	if err != nil {
		m.err = err
		return m
	}
	var logs io.Writer
	if o.verbose {
		logs = os.Stderr
	}
	for range o.runs {
		err := func() error {
			ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
			defer cancel()
			stack, err := newStack(ctx) // fresh tables each run: every run takes the same path
			if err != nil {
				return err
			}
			defer stack.Close()
			event, err := resign(raw, []byte(stack.Keys[secrets.StashEgressKey]), time.Now())
			if err != nil {
				return err
			}
			var out bytes.Buffer
			w := io.Writer(&out)
			if logs != nil {
				w = io.MultiWriter(&out, logs)
			}
			res, cs, err := lambdaemu.Invoke(ctx, stack, id, binary, event, w)
			if err != nil {
				return fmt.Errorf("%w\n%s", err, lastLines(out.String(), 5))
			}
			m.status = answerStatus(res)
			m.init = append(m.init, cs.Init)
			m.first = append(m.first, cs.FirstResponse)
			m.peak = max(m.peak, cs.Memory.Peak)
			return nil
		}()
		if err != nil {
			m.err = err
			return m
		}
	}
	return m
}

// answerStatus is the HTTP status of an HTTP API answer, "ok" for a job's
// null, or the error type.
func answerStatus(res lambdaemu.Result) string {
	if res.Error {
		return "error:" + res.ErrorType
	}
	if string(bytes.TrimSpace(res.Payload)) == "null" {
		return "ok (job)"
	}
	var r struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal(res.Payload, &r) != nil || r.StatusCode == 0 {
		return "?"
	}
	return fmt.Sprint(r.StatusCode)
}

func printTable(w io.Writer, o options, ms []measurement) {
	fmt.Fprintf(w, "Cold starts: the real bootstrap built for %s/%s (the deployed linux/arm64 binary cannot run on this machine), started by lambdaemu\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "with the function's template environment against embedded minidyn (template tables, sample catalog); %d runs each, a fresh store per run.\n", o.runs)
	fmt.Fprintf(w, "first answer = exec -> the first invocation's answer received (init = exec -> first request for an event); peak RSS = VmHWM after the answer.\n")
	fmt.Fprintf(w, "Targets: first answer < %v, peak RSS < %s, bootstrap < %s.\n\n", targetFirstResponse, mb(targetPeakRSS), mb(targetBootstrap))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\tevent\tstatus\tinit p50\tfirst answer p50\tmin\tmax\tpeak RSS\tbootstrap "+runtime.GOARCH+"\tbootstrap arm64\t")
	for _, m := range ms {
		if m.err != nil {
			fmt.Fprintf(tw, "%s\t%s\tFAILED\t\t\t\t\t\t%s\t%s\t\n", m.id, m.event, mb(m.hostSize), mb(m.armSize))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\t%s\t%s\t%s%s\t%s\t%s%s\t\n", m.id, m.event, m.status,
			ms2(median(m.init)), ms2(median(m.first)), over(median(m.first) > targetFirstResponse), ms2(minOf(m.first)), ms2(maxOf(m.first)),
			mb(m.peak), over(m.peak > targetPeakRSS), mb(m.hostSize), mb(m.armSize), over(m.armSize > targetBootstrap))
	}
	tw.Flush()
	fmt.Fprintln(w, "(* = over the target)")
}

func over(b bool) string {
	if b {
		return " *"
	}
	return ""
}

func mb(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

func ms2(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func minOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	m := ds[0]
	for _, d := range ds {
		m = min(m, d)
	}
	return m
}

func maxOf(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// preferredEvents names the fixture measured for functions with several
// (the grant path of the webhook).
var preferredEvents = map[string]string{"StashWebhookFunction": "stash-webhook-purchase-succeeded.json"}

// chooseEvents picks an event per function from fixtures.json: the
// preferred one, else <short name>.json, else the first (by name) that
// succeeds (status 200, or 0 for a scheduled function), else the first.
func chooseEvents(dir string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "fixtures.json"))
	if err != nil {
		return nil, err
	}
	var fixtures map[string]struct {
		Function string `json:"function"`
		Status   int    `json:"status"`
	}
	if err := json.Unmarshal(data, &fixtures); err != nil {
		return nil, fmt.Errorf("fixtures.json: %w", err)
	}
	names := make([]string, 0, len(fixtures))
	for n := range fixtures {
		names = append(names, n)
	}
	sort.Strings(names)
	rank := func(fn, name string) int {
		f := fixtures[name]
		switch {
		case preferredEvents[fn] == name:
			return 0
		case name == strings.ToLower(strings.TrimSuffix(fn, "Function"))+".json" && (f.Status == 200 || f.Status == 0):
			return 1
		case f.Status == 200 || f.Status == 0:
			return 2
		}
		return 3
	}
	out := map[string]string{}
	for _, n := range names {
		fn := fixtures[n].Function
		if cur, ok := out[fn]; !ok || rank(fn, n) < rank(fn, cur) {
			out[fn] = n
		}
	}
	return out, nil
}

// resign sets a fresh v1 signature (at now, with key, for the shop the
// event's header names) on an HTTP API event that carries one; other events
// are returned as they are.
func resign(event, key []byte, now time.Time) ([]byte, error) {
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("event is not a JSON object: %w", err)
	}
	var headers map[string]string
	if raw, ok := ev["headers"]; ok {
		if err := json.Unmarshal(raw, &headers); err != nil {
			return event, nil // not an HTTP API event
		}
	}
	header := ""
	for k := range headers {
		if strings.EqualFold(k, auth.HeaderStashSignature) {
			header = k
		}
	}
	if header == "" {
		return event, nil
	}
	var body string
	var isBase64 bool
	_ = json.Unmarshal(ev["body"], &body)
	_ = json.Unmarshal(ev["isBase64Encoded"], &isBase64)
	bodyBytes := []byte(body)
	if isBase64 {
		var err error
		if bodyBytes, err = base64.StdEncoding.DecodeString(body); err != nil {
			return nil, fmt.Errorf("event body: %w", err)
		}
	}
	shop := "dev-shop"
	if parts := strings.Split(headers[header], ";"); len(parts) == 4 && parts[1] != "" {
		shop = parts[1]
	}
	headers[header] = auth.SignStashV1(key, shop, now, bodyBytes)
	raw, err := json.Marshal(headers)
	if err != nil {
		return nil, err
	}
	ev["headers"] = raw
	return json.Marshal(ev)
}
