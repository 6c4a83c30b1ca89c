// Package metrics collects the business and health figures of one request
// (or one scheduled run) and renders them as CloudWatch Embedded Metric
// Format (EMF) members of the log line that request already writes: no
// PutMetricData call on the request path. A Set travels in the request's
// context (httpx.Observe and lambdarun's job entries put one there and add
// it to their one line); domain code adds to it with Figure.Add, without
// knowing HTTP or logging. lambdarun's log handler renders the Set as EMF
// (the stack's namespace, the function's name as the Function dimension).
//
// Every figure is declared once, below (All): its name, unit and its own
// bounded dimensions (a store's slug, a PSP, a status — never an order id,
// an email or a player id). The template's alarms and dashboard name these
// figures; a test checks they exist.
package metrics

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// Unit is an EMF unit (CloudWatch's StandardUnit).
type Unit string

// The units the figures use.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	Seconds      Unit = "Seconds"
)

// Units lists every unit EMF accepts (the CloudWatch StandardUnit values).
var Units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// EMF's limits per log line.
const (
	MaxMetrics    = 100 // metric definitions per directive
	MaxDimensions = 30  // keys per dimension set
	MaxValues     = 100 // values of one metric
)

// DimFunction is the dimension every figure carries: the function that
// emitted it.
const DimFunction = "Function"

// Dimension names of the figures (their values are bounded).
const (
	DimStore   = "Store"   // a store's slug
	DimSKU     = "SKU"     // a store product's SKU
	DimPSP     = "PSP"     // stripe, sandbox, …
	DimAction  = "Action"  // a payment's action: auth, capture, reverse, refund
	DimStatus  = "Status"  // a PSP outcome: SUCCESS, FAIL, PENDING
	DimVia     = "Via"     // what granted a Stash purchase: confirm or webhook
	DimOutcome = "Outcome" // a Stash refund's outcome
	DimSource  = "Source"  // what fulfilled a store order: api or checkout
)

// Figure is one metric: its name, unit and own dimensions. A figure is
// published twice: per Function and its own dimensions (the detail), and,
// unless Detail, stack-wide without dimensions (what the alarms and the
// dashboard's totals read).
type Figure struct {
	Name string
	Unit Unit
	Dims []string
	// Gauge: each Add is a sample kept as a value (a latency, an age, a
	// level), not summed.
	Gauge bool
	// Detail: published per dimension only (a level per SKU means nothing
	// summed over SKUs).
	Detail bool
	// Help says what the figure counts (docs/operations.md, make run's summary).
	Help string
}

// The figures.
var (
	// Stash (the game backend).
	StashGrants  = Figure{Name: "StashGrants", Unit: Count, Dims: []string{DimVia}, Help: "purchases granted to players"}
	StashRefunds = Figure{Name: "StashRefunds", Unit: Count, Dims: []string{DimOutcome}, Help: "refunds applied (duplicates not counted)"}
	StashDebts   = Figure{Name: "StashDebts", Unit: Count, Help: "units refunded after the player spent them, recorded as debt"}
	// ReservationsReleased and ExpiredReservationAge: the sweeper.
	ReservationsReleased  = Figure{Name: "ReservationsReleased", Unit: Count, Help: "expired reservations the sweeper released"}
	ExpiredReservationAge = Figure{Name: "ExpiredReservationAge", Unit: Seconds, Gauge: true,
		Help: "how long past its expiry the oldest expired reservation a sweep found was (high: not being swept)"}

	// The payments API.
	Payments = Figure{Name: "Payments", Unit: Count, Dims: []string{DimPSP, DimAction, DimStatus}, Help: "PSP outcomes recorded (charges, captures, reversals, refunds)"}

	// The store platform and checkout.
	CheckoutSessions    = Figure{Name: "CheckoutSessions", Unit: Count, Dims: []string{DimStore}, Help: "checkout sessions created"}
	CheckoutPayments    = Figure{Name: "CheckoutPayments", Unit: Count, Dims: []string{DimStore, DimPSP}, Help: "checkout payments started (PSP intents created)"}
	CheckoutConversions = Figure{Name: "CheckoutConversions", Unit: Count, Dims: []string{DimStore}, Help: "checkout orders paid and fulfilled"}
	StoreFulfilments    = Figure{Name: "StoreFulfilments", Unit: Count, Dims: []string{DimStore, DimSource}, Help: "store orders fulfilled"}
	KeysAllocated       = Figure{Name: "KeysAllocated", Unit: Count, Dims: []string{DimStore}, Help: "license keys allocated to orders"}
	// LicenseKeysLeft and LicensePoolLowStock: emitted by the license pool.
	LicenseKeysLeft = Figure{Name: "LicenseKeysLeft", Unit: Count, Dims: []string{DimStore, DimSKU}, Gauge: true, Detail: true,
		Help: "license keys left in a SKU's pool after an allocation (a level, not for alarms)"}
	LicensePoolLowStock = Figure{Name: "LicensePoolLowStock", Unit: Count, Dims: []string{DimStore},
		Help: "a license pool crossed its store's low-stock threshold (once per crossing)"}

	// Webhooks (the dispatcher) and Stripe's.
	WebhookDelivered        = Figure{Name: "WebhookDelivered", Unit: Count, Help: "outbound webhook events delivered"}
	WebhookRetried          = Figure{Name: "WebhookRetried", Unit: Count, Help: "outbound webhook attempts failed, retried later"}
	WebhookDead             = Figure{Name: "WebhookDead", Unit: Count, Help: "outbound webhook events dead after their retry window"}
	WebhookUndeliverable    = Figure{Name: "WebhookUndeliverable", Unit: Count, Help: "outbound webhook events whose recipient has no target"}
	WebhookLatency          = Figure{Name: "WebhookLatency", Unit: Milliseconds, Gauge: true, Help: "receivers' answer time per attempt"}
	StripeSignatureFailures = Figure{Name: "StripeSignatureFailures", Unit: Count,
		Help: "Stripe webhook events refused for their signature (a mis-set webhook secret stops every order)"}
)

// All is every figure.
var All = []Figure{
	StashGrants, StashRefunds, StashDebts, ReservationsReleased, ExpiredReservationAge,
	Payments,
	CheckoutSessions, CheckoutPayments, CheckoutConversions, StoreFulfilments, KeysAllocated, LicenseKeysLeft, LicensePoolLowStock,
	WebhookDelivered, WebhookRetried, WebhookDead, WebhookUndeliverable, WebhookLatency, StripeSignatureFailures,
}

// Add adds v to the figure in ctx's Set (nothing when ctx carries none):
// summed, or kept as a sample when the figure is a gauge. values are the
// figure's dimension values, in the order of Dims; an empty or missing one
// is "none".
func (f Figure) Add(ctx context.Context, v float64, values ...string) {
	FromContext(ctx).add(f, v, values)
}

// Set is the figures of one request. It is safe for concurrent use; a nil
// *Set ignores Add.
type Set struct {
	mu      sync.Mutex
	entries []*entry
	index   map[string]*entry
}

type entry struct {
	fig    Figure
	dims   []string // values, in the order of fig.Dims
	sum    float64
	values []float64
}

type setKey struct{}

// NewSet returns an empty Set.
func NewSet() *Set { return &Set{index: map[string]*entry{}} }

// With returns ctx carrying s.
func With(ctx context.Context, s *Set) context.Context { return context.WithValue(ctx, setKey{}, s) }

// FromContext is the Set ctx carries, or nil.
func FromContext(ctx context.Context) *Set {
	s, _ := ctx.Value(setKey{}).(*Set)
	return s
}

func (s *Set) add(f Figure, v float64, values []string) {
	if s == nil {
		return
	}
	dims := make([]string, len(f.Dims))
	for i := range dims {
		dims[i] = "none"
		if i < len(values) && values[i] != "" {
			dims[i] = values[i]
		}
	}
	key := f.Name + "\x00" + strings.Join(dims, "\x00")
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.index[key]
	if e == nil {
		e = &entry{fig: f, dims: dims}
		s.index[key] = e
		s.entries = append(s.entries, e)
	}
	if f.Gauge {
		e.values = append(e.values, v)
	} else {
		e.sum += v
	}
}

// Empty reports whether nothing was added.
func (s *Set) Empty() bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries) == 0
}

// Key is the log attribute a Set travels in (Attr); lambdarun's handler
// renders it as EMF.
const Key = "metrics"

// Attr is s as a log attribute. A handler that does not render EMF logs
// its figures as a plain group.
func Attr(s *Set) slog.Attr { return slog.Any(Key, s) }

// LogValue is the figures as a group (name: total), for a handler that
// does not render EMF.
func (s *Set) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, p := range s.Points() {
		attrs = append(attrs, slog.Float64(p.Name, p.Total))
	}
	return slog.GroupValue(attrs...)
}

// Point is one figure with one set of dimension values, as added.
type Point struct {
	Name   string
	Unit   Unit
	Dims   map[string]string // its own dimensions (not Function)
	Total  float64           // the sum (a gauge: of its samples)
	Values []float64         // a gauge's samples

	figure Figure
}

// Points is what was added, in the order it was first added.
func (s *Set) Points() []Point {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Point, 0, len(s.entries))
	for _, e := range s.entries {
		p := Point{Name: e.fig.Name, Unit: e.fig.Unit, Dims: map[string]string{}, Total: e.sum, figure: e.fig}
		for i, d := range e.fig.Dims {
			p.Dims[d] = e.dims[i]
		}
		if e.fig.Gauge {
			p.Values = append([]float64(nil), e.values...)
			p.Total = 0
			for _, v := range e.values {
				p.Total += v
			}
		}
		out = append(out, p)
	}
	return out
}

// Directive is one CloudWatchMetrics entry of an EMF document.
type Directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []Definition `json:"Metrics"`
}

// Definition is one metric of a Directive.
type Definition struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

// Metadata is an EMF document's _aws member.
type Metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []Directive `json:"CloudWatchMetrics"`
}

// Document is one log line's EMF part: the _aws metadata and the members
// it names (dimension values and metric values) at the top level.
type Document struct {
	AWS     Metadata
	Members []slog.Attr
}

// Render is s as EMF documents under namespace, function as the Function
// dimension, stamped at. A figure whose dimension takes two values in one
// request, or a gauge with more than MaxValues samples, does not fit one
// line (a top-level member has one value): the first document holds what
// fits, the others the rest, each to be a line of its own.
func (s *Set) Render(namespace, function string, at time.Time) []Document {
	type doc struct {
		dims    map[string]string // dimension values at the top level
		metrics map[string]bool
		values  map[string]any
		groups  map[string]*Directive // by dimension set
		order   []string
		count   int
	}
	var docs []*doc
	fits := func(d *doc, name string, dims map[string]string) bool {
		if d.metrics[name] || d.count >= MaxMetrics {
			return false
		}
		for k, v := range dims {
			if cur, ok := d.dims[k]; ok && cur != v {
				return false
			}
		}
		return true
	}
	for _, p := range s.Points() {
		dims := map[string]string{DimFunction: function}
		for k, v := range p.Dims {
			dims[k] = v
		}
		chunks := [][]float64{nil}
		if p.Values != nil {
			chunks = nil
			for i := 0; i < len(p.Values); i += MaxValues {
				chunks = append(chunks, p.Values[i:min(i+MaxValues, len(p.Values))])
			}
		}
		fig := p.figure
		for _, chunk := range chunks {
			var d *doc
			for _, c := range docs {
				if fits(c, p.Name, dims) {
					d = c
					break
				}
			}
			if d == nil {
				d = &doc{dims: map[string]string{}, metrics: map[string]bool{}, values: map[string]any{}, groups: map[string]*Directive{}}
				docs = append(docs, d)
			}
			for k, v := range dims {
				d.dims[k] = v
			}
			d.metrics[p.Name] = true
			d.count++
			if chunk != nil {
				d.values[p.Name] = chunk
			} else {
				d.values[p.Name] = p.Total
			}
			set := append([]string{DimFunction}, fig.Dims...)
			sets := [][]string{set}
			if !fig.Detail {
				sets = append(sets, []string{})
			}
			gk := strings.Join(set, ",") + "|" + map[bool]string{true: "detail", false: "total"}[fig.Detail]
			g := d.groups[gk]
			if g == nil {
				g = &Directive{Namespace: namespace, Dimensions: sets}
				d.groups[gk] = g
				d.order = append(d.order, gk)
			}
			g.Metrics = append(g.Metrics, Definition{Name: p.Name, Unit: p.Unit})
		}
	}
	out := make([]Document, 0, len(docs))
	for _, d := range docs {
		doc := Document{AWS: Metadata{Timestamp: at.UnixMilli()}}
		for _, gk := range d.order {
			doc.AWS.CloudWatchMetrics = append(doc.AWS.CloudWatchMetrics, *d.groups[gk])
		}
		for _, k := range sortedKeys(d.dims) {
			doc.Members = append(doc.Members, slog.String(k, d.dims[k]))
		}
		for _, k := range sortedKeys(d.values) {
			switch v := d.values[k].(type) {
			case float64:
				doc.Members = append(doc.Members, slog.Float64(k, v))
			default:
				doc.Members = append(doc.Members, slog.Any(k, v))
			}
		}
		out = append(out, doc)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
