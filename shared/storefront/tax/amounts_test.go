package tax

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
)

// maxProperty is the largest subtotal the property test checks (minor units).
const maxProperty = 10_000_000

// effectiveRates are every rate a buyer can be charged with the embedded
// data: each country's own and, for each subdivision, the country's plus
// the subdivision's (as Quote adds them), without duplicates.
func effectiveRates(t testing.TB) []Decimal {
	seen := map[string]Decimal{}
	add := func(d Decimal) {
		if d.Rat().Sign() < 0 {
			t.Fatalf("rate %s is negative", d)
		}
		seen[d.Rat().RatString()] = d
	}
	for _, c := range Data.Countries {
		country := Decimal("0")
		if c.Type != "none" && c.Rate.Rat().Sign() > 0 {
			country = c.Rate
		}
		add(country)
		for _, s := range c.Subdivisions {
			add(country.Add(s.Rate))
		}
	}
	out := make([]Decimal, 0, len(seen))
	for _, d := range seen {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rat().Cmp(out[j].Rat()) < 0 })
	return out
}

// oracle is the reference: the tax as a big.Rat (sub × rate, or the part
// of sub that is tax, sub × rate / (1 + rate)), rounded half up with
// big.Rat alone: floor(x + 1/2). Its scratch values are reused (one
// oracle per goroutine).
type oracle struct {
	sub, x big.Rat
	q      big.Int
}

var half = big.NewRat(1, 2)

// exact is sub × frac rounded half up; frac is rate or rate / (1 + rate).
func (o *oracle) exact(sub int64, frac *big.Rat) int64 {
	o.sub.SetInt64(sub)
	o.x.Mul(&o.sub, frac)
	o.x.Add(&o.x, half)
	return o.q.Quo(o.x.Num(), o.x.Denom()).Int64() // x >= 0: truncation is floor
}

// taxPart is the fraction of the subtotal that is tax: rate, or rate /
// (1 + rate) when prices include it.
func taxPart(rate Decimal, included bool) *big.Rat {
	r := rate.Rat()
	if included {
		r.Quo(r, new(big.Rat).Add(big.NewRat(1, 1), r))
	}
	return r
}

func check(t *testing.T, o *oracle, sub int64, rate Decimal, frac *big.Rat, included bool) bool {
	got, err := Compute(sub, rate, included)
	if err != nil {
		t.Errorf("Compute(%d, %s, %v): %v", sub, rate, included, err)
		return false
	}
	want := o.exact(sub, frac)
	total := sub
	if !included {
		total += want
	}
	if got.TaxMinor != want || got.TotalMinor != total || got.SubtotalMinor != sub || got.Included != included {
		t.Errorf("Compute(%d, %s, included %v) = %+v; exactly: tax %d, total %d", sub, rate, included, got, want, total)
		return false
	}
	return true
}

// halves are the subtotals at which the exact tax (sub × p/q in lowest
// terms) ends in exactly .5: sub × p ≡ q/2 (mod q), one residue mod q when
// q is even (p is invertible mod q), none when q is odd.
func halves(p, q *big.Int) (first, step int64, ok bool) {
	if q.Bit(0) == 1 || !q.IsInt64() {
		return 0, 0, false
	}
	inv := new(big.Int).ModInverse(p, q)
	if inv == nil {
		return 0, 0, false
	}
	s0 := new(big.Int).Mul(new(big.Int).Rsh(q, 1), inv)
	return s0.Mod(s0, q).Int64(), q.Int64(), true
}

// TestComputeExact: every rate of the embedded data, in both modes,
// against exact big.Rat rounding: every subtotal from 0 to maxProperty at
// which the exact tax ends in .5, with its two neighbours (-short: up to
// 100,000; under -race every 8th), the first 10,000 subtotals and
// maxProperty, and a seeded random sample of 200,000 (rate, mode,
// subtotal) triples.
func TestComputeExact(t *testing.T) {
	rates := effectiveRates(t)
	limit := int64(maxProperty)
	if testing.Short() {
		limit = 100_000
	}
	var pairs, halfPoints atomic.Int64
	t.Run("rates", func(t *testing.T) {
		for _, included := range []bool{false, true} {
			for _, rate := range rates {
				t.Run(fmt.Sprintf("%s/included=%v", rate, included), func(t *testing.T) {
					t.Parallel()
					frac, o := taxPart(rate, included), new(oracle)
					n, h := int64(0), int64(0)
					if first, step, ok := halves(frac.Num(), frac.Denom()); ok {
						for sub := first; sub <= limit; sub += step * raceStride {
							h++
							for _, s := range []int64{sub - 1, sub, sub + 1} {
								if s >= 0 && s <= maxProperty {
									n++
									if !check(t, o, s, rate, frac, included) {
										return
									}
								}
							}
						}
					}
					for _, sub := range append(seq(0, 10_000), maxProperty) {
						n++
						if !check(t, o, sub, rate, frac, included) {
							return
						}
					}
					pairs.Add(n)
					halfPoints.Add(h)
				})
			}
		}
	})
	rng, o := rand.New(rand.NewPCG(24, 2026)), new(oracle)
	for i := 0; i < 200_000; i++ {
		rate, included := rates[rng.IntN(len(rates))], rng.IntN(2) == 1
		pairs.Add(1)
		if !check(t, o, rng.Int64N(maxProperty+1), rate, taxPart(rate, included), included) {
			return
		}
	}
	t.Logf("%d rates × 2 modes, subtotals 0-%d: %d exact .5 points; %d (rate, mode, subtotal) triples checked against big.Rat",
		len(rates), maxProperty, halfPoints.Load(), pairs.Load())
}

func seq(from, to int64) []int64 {
	out := make([]int64, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestFloatFormulaDiffered counts, for the record, the (rate, subtotal)
// pairs at which the former formula, math.Floor(float64(sub)*rate + 0.5)
// with the rate summed in float64 (country + subdivision), rounded
// otherwise than exact half up: over every rate entry of the embedded data
// and subtotals 0-100,000. Compute (equal to big.Rat, TestComputeExact)
// is the reference.
func TestFloatFormulaDiffered(t *testing.T) {
	differ, entries, examples := 0, 0, []string{}
	for _, c := range Data.Countries {
		country := Decimal("0")
		if c.Type != "none" && c.Rate.Rat().Sign() > 0 {
			country = c.Rate
		}
		fCountry, _ := strconv.ParseFloat(string(country), 64)
		type pair struct {
			exact Decimal
			float float64
		}
		rates := []pair{{country, fCountry}}
		for _, s := range c.Subdivisions {
			f, _ := strconv.ParseFloat(string(s.Rate), 64)
			rates = append(rates, pair{country.Add(s.Rate), fCountry + f})
		}
		for _, r := range rates {
			entries++
			for sub := int64(0); sub <= 100_000; sub++ {
				got, err := Compute(sub, r.exact, false)
				if err != nil {
					t.Fatal(err)
				}
				if old := int64(math.Floor(float64(sub)*r.float + 0.5)); old != got.TaxMinor {
					differ++
					if len(examples) < 3 {
						examples = append(examples, fmt.Sprintf("%s of %d: float %d, exact %d", r.exact, sub, old, got.TaxMinor))
					}
				}
			}
		}
	}
	t.Logf("%d rate entries × subtotals 0-100,000: the float formula rounded %d pairs otherwise than exact half up (%v)", entries, differ, examples)
	if differ != 2585 {
		t.Errorf("the float formula differed at %d pairs; the issue measured 2,585 on this data", differ)
	}
}

func TestComputeExamples(t *testing.T) {
	for _, c := range []struct {
		sub      int64
		rate     Decimal
		included bool
		tax, tot int64
	}{
		{180, "0.175", false, 32, 212},   // exactly 31.5: up (the float formula gave 31)
		{5998, "0.2", false, 1200, 7198}, // 2 × £29.99 + 20% VAT
		{5998, "0.2", true, 1000, 5998},  // £59.98 including 20% VAT: 5998/6 = 999.67
		{2999, "0.2", true, 500, 2999},   // 499.83
		{0, "0.2", true, 0, 0},
		{100, "0", false, 0, 100},
		{1000, "0.14975", false, 150, 1150}, // 149.75
		{3, "0.5", false, 2, 5},             // 1.5: up
		{3, "0.5", true, 1, 3},              // exactly 1
	} {
		got, err := Compute(c.sub, c.rate, c.included)
		if err != nil || got.TaxMinor != c.tax || got.TotalMinor != c.tot {
			t.Errorf("Compute(%d, %s, %v) = %+v, %v; want tax %d total %d", c.sub, c.rate, c.included, got, err, c.tax, c.tot)
		}
	}
	if _, err := Compute(1<<53, "0.2", false); err == nil {
		t.Error("a subtotal above money.MaxMinor was computed")
	}
	if _, err := Compute(1<<53-1, "0.2", false); err == nil {
		t.Error("a total above money.MaxMinor was computed")
	}
}

func TestDecimal(t *testing.T) {
	for _, c := range []struct {
		in, percent string
	}{{"0.2", "20"}, {"0.175", "17.5"}, {"0.09975", "9.975"}, {"0.0625", "6.25"}, {"0", "0"}, {"-0.14", "-14"}, {"1", "100"}} {
		d, err := ParseDecimal(c.in)
		if err != nil || d.Percent() != c.percent {
			t.Errorf("ParseDecimal(%q) = %q, %v; Percent %q, want %q", c.in, d, err, d.Percent(), c.percent)
		}
	}
	for _, bad := range []string{"", ".", "1.", ".5", "2e-1", "+0.2", "1.5", "-1.5", "0x1", "0.2 ", "NaN"} {
		if _, err := ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) accepted", bad)
		}
	}
	if got := Decimal("0.05").Add("0.09975"); got != "0.14975" {
		t.Errorf("0.05 + 0.09975 = %s", got)
	}
	if got := Decimal("0.21").Add("-0.14"); got != "0.07" {
		t.Errorf("0.21 - 0.14 = %s", got)
	}
}

// FuzzParseDecimal: a rate that parses is within [-1, 1], round-trips
// through JSON with its own digits, and a non-negative one computes
// exactly (the big.Rat oracle) on a subtotal.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0.2", "0.175", "1", "0", "0.000000000000001", "1e-2", "-0.21", "0.1234567890123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			return
		}
		if new(big.Rat).Abs(d.Rat()).Cmp(big.NewRat(1, 1)) > 0 {
			t.Fatalf("%q parsed beyond 1", s)
		}
		js, _ := json.Marshal(d)
		var back Decimal
		if err := json.Unmarshal(js, &back); err != nil || back != d {
			t.Fatalf("JSON round trip of %q: %s, %v", s, back, err)
		}
		if d.Rat().Sign() >= 0 {
			for _, included := range []bool{false, true} {
				check(t, new(oracle), 9_999_999, d, taxPart(d, included), included)
			}
		}
	})
}

// The embedded data decodes into exact decimals and encodes back to the
// same bytes (cmd/taxdata writes it with json.MarshalIndent): no rate
// passes through a float on the way.
func TestDataKeepsItsDigits(t *testing.T) {
	js, err := json.MarshalIndent(Data, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if string(append(js, '\n')) != string(ratesJSON) {
		t.Error("rates.json re-encoded differs from the embedded file")
	}
	r, err := For("CA", "QC")
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := json.Marshal(r.Rates)
	if want := `[{"level":"country","type":"gst","rate":0.05},{"level":"subdivision","subdivision":"QC","type":"qst","rate":0.09975}]`; string(answer) != want {
		t.Errorf("the API's rates %s, want %s", answer, want)
	}
}
