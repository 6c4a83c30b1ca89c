package lambdarun_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/tollgate-dev/tollgate/internal/dev/emfcheck"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
)

// The log handler puts the invocation's request and trace ids on every
// line, and a line's metrics as valid EMF: one line when they fit, more
// when a dimension takes two values in one request or a gauge has more
// than 100 samples; every figure added is published exactly once with
// its Function dimension, and stack-wide unless it is per-dimension only.
func TestLogHandlerEMF(t *testing.T) {
	var buf bytes.Buffer
	tally := &metrics.Tally{}
	logger := slog.New(lambdarun.LogHandler(slog.NewJSONHandler(&buf, nil), "Tollgate/test", tally))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	ctx = lambdarun.WithTrace(ctx, "Root=1-abc-def;Sampled=0")

	logger.InfoContext(ctx, "plain", "function", "f")
	set := metrics.NewSet()
	mctx := metrics.With(ctx, set)
	metrics.StoreFulfilments.Add(mctx, 1, "store-a", "api")
	metrics.StoreFulfilments.Add(mctx, 1, "store-a", "api")
	metrics.KeysAllocated.Add(mctx, 3, "store-a")
	metrics.KeysAllocated.Add(mctx, 2, "store-b") // Store takes a second value: a line of its own
	metrics.LicenseKeysLeft.Add(mctx, 7, "store-a", "SKU-1")
	for i := range 150 {
		metrics.WebhookLatency.Add(mctx, float64(i))
	}
	logger.InfoContext(ctx, "request", "function", "FulfillFunction", metrics.Attr(set))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	totals := map[string]float64{} // name|dims -> sum of values
	samples := 0
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["requestId"] != "req-1" || m["traceId"] != "Root=1-abc-def;Sampled=0" {
			t.Errorf("line %d: requestId %v traceId %v", i, m["requestId"], m["traceId"])
		}
		got, err := emfcheck.Check([]byte(line))
		if i == 0 {
			if !errors.Is(err, emfcheck.ErrNotEMF) {
				t.Errorf("a line without metrics: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("line %d is not valid EMF: %v\n%s", i, err, line)
		}
		for _, g := range got {
			if g.Namespace != "Tollgate/test" {
				t.Errorf("namespace %q", g.Namespace)
			}
			key := g.Name + "|" + g.Dimensions["Function"] + "|" + g.Dimensions["Store"] + "|" + g.Dimensions["SKU"]
			for _, v := range g.Values {
				totals[key] += v
			}
			if g.Name == "WebhookLatency" && g.Dimensions["Function"] != "" {
				samples += len(g.Values)
			}
		}
	}
	for key, want := range map[string]float64{
		"StoreFulfilments|FulfillFunction|store-a|": 2, "StoreFulfilments|||": 2,
		"KeysAllocated|FulfillFunction|store-a|": 3, "KeysAllocated|FulfillFunction|store-b|": 2, "KeysAllocated|||": 5,
		"LicenseKeysLeft|FulfillFunction|store-a|SKU-1": 7, "LicenseKeysLeft|||": 0,
	} {
		if totals[key] != want {
			t.Errorf("%s: %v, want %v (all: %v)", key, totals[key], want, totals)
		}
	}
	if samples != 150 {
		t.Errorf("%d latency samples published, want 150", samples)
	}
	var summary bytes.Buffer
	if err := tally.WriteSummary(&summary); err != nil || !strings.Contains(summary.String(), "KeysAllocated {Store=store-b}") ||
		!strings.Contains(summary.String(), "WebhookLatency") {
		t.Errorf("summary: %v\n%s", err, summary.String())
	}
}
