package metrics

import (
	"context"
	"testing"
)

// A request without a Set ignores figures; a figure's dimension values
// are padded ("none") or cut to its own dimensions; counts sum, gauges
// keep their samples.
func TestAdd(t *testing.T) {
	KeysAllocated.Add(context.Background(), 1, "s") // no Set: nothing, no panic
	var none *Set
	if !none.Empty() || none.Points() != nil {
		t.Fatal("a nil Set holds nothing")
	}
	s := NewSet()
	ctx := With(context.Background(), s)
	Payments.Add(ctx, 1, "stripe")
	Payments.Add(ctx, 2, "stripe", "", "")
	StashDebts.Add(ctx, 3, "ignored")
	WebhookLatency.Add(ctx, 5)
	WebhookLatency.Add(ctx, 7)
	got := s.Points()
	if len(got) != 3 {
		t.Fatalf("%d points: %+v", len(got), got)
	}
	if p := got[0]; p.Total != 3 || p.Dims[DimPSP] != "stripe" || p.Dims[DimAction] != "none" || p.Dims[DimStatus] != "none" {
		t.Errorf("payments: %+v", p)
	}
	if p := got[1]; p.Total != 3 || len(p.Dims) != 0 {
		t.Errorf("debts: %+v", p)
	}
	if p := got[2]; p.Total != 12 || len(p.Values) != 2 {
		t.Errorf("latency: %+v", p)
	}
}

// Every figure's name is unique and its unit one CloudWatch accepts.
func TestFigures(t *testing.T) {
	seen := map[string]bool{}
	units := map[string]bool{}
	for _, u := range Units {
		units[u] = true
	}
	for _, f := range All {
		if seen[f.Name] || f.Name == "" || !units[string(f.Unit)] || f.Help == "" || len(f.Dims)+1 > MaxDimensions {
			t.Errorf("figure %+v", f)
		}
		seen[f.Name] = true
	}
}
