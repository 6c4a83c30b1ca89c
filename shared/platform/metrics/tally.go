package metrics

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Tally sums the figures of many Sets: what a local run (make run) shows
// on its way out, so a developer sees what production would chart.
type Tally struct {
	mu   sync.Mutex
	rows map[string]*tallyRow
}

type tallyRow struct {
	name, dims string
	unit       Unit
	gauge      bool
	total      float64
	samples    int
	max        float64
}

// Add adds s's figures.
func (t *Tally) Add(s *Set) {
	points := s.Points()
	if len(points) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rows == nil {
		t.rows = map[string]*tallyRow{}
	}
	for _, p := range points {
		var dims []string
		for _, k := range sortedKeys(p.Dims) {
			dims = append(dims, k+"="+p.Dims[k])
		}
		key := p.Name + " " + strings.Join(dims, ",")
		r := t.rows[key]
		if r == nil {
			r = &tallyRow{name: p.Name, dims: strings.Join(dims, ","), unit: p.Unit, gauge: p.figure.Gauge}
			t.rows[key] = r
		}
		r.total += p.Total
		if p.figure.Gauge {
			for _, v := range p.Values {
				if r.samples == 0 || v > r.max {
					r.max = v
				}
				r.samples++
			}
		} else {
			r.samples++
		}
	}
}

// WriteSummary writes one line per figure and dimension values: a count's
// total, a gauge's samples, average and maximum.
func (t *Tally) WriteSummary(w io.Writer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.rows))
	for k := range t.rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	if len(keys) == 0 {
		b.WriteString("metrics: none emitted\n")
	} else {
		b.WriteString("metrics emitted (EMF, as CloudWatch would chart them):\n")
	}
	for _, k := range keys {
		r := t.rows[k]
		name := r.name
		if r.dims != "" {
			name += " {" + r.dims + "}"
		}
		if r.gauge {
			fmt.Fprintf(&b, "  %-60s %d samples, avg %.1f, max %.1f %s\n", name, r.samples, r.total/float64(r.samples), r.max, r.unit)
		} else {
			fmt.Fprintf(&b, "  %-60s %g\n", name, r.total)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Figures is the tally as one map: "Name {Dim=value,…}" to a count's
// total or a gauge's number of samples.
func (t *Tally) Figures() map[string]float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]float64, len(t.rows))
	for k, r := range t.rows {
		name := strings.TrimSpace(k)
		if r.dims != "" {
			name = r.name + " {" + r.dims + "}"
		}
		if r.gauge {
			out[name] = float64(r.samples)
		} else {
			out[name] = r.total
		}
	}
	return out
}
