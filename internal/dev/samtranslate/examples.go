package samtranslate

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
)

// maxExamples bounds what Examples returns for one pattern.
const maxExamples = 200

// Examples returns strings an AllowedPattern accepts, chosen at its edges:
// each alternative; for a character class its lowest and highest printable
// ASCII members (so [0-9] gives 0 and 9, [^/\s] gives ! and ~); for a
// repetition its fewest and most repeats (a few more when unbounded), once
// with the low member throughout, once with the high, once high then low
// (90, 9000). Every example matches the pattern (checked); an empty
// pattern yields nothing.
func Examples(pattern string) ([]string, error) {
	if pattern == "" {
		return nil, nil
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	set := map[string]bool{}
	for _, s := range gen(re) {
		set[s] = true
	}
	check := regexp.MustCompile(pattern)
	out := make([]string, 0, len(set))
	for s := range set {
		if !check.MatchString(s) {
			return nil, fmt.Errorf("pattern %q: generated %q, which it does not match", pattern, s)
		}
		out = append(out, s)
	}
	sort.Strings(out)
	if len(out) > maxExamples {
		out = out[:maxExamples]
	}
	return out, nil
}

// gen lists examples of one node.
func gen(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}
	case syntax.OpLiteral:
		return []string{string(re.Rune)}
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return members(re)
	case syntax.OpCapture:
		return gen(re.Sub[0])
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			out = append(out, gen(sub)...)
		}
		return out
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			out = product(out, gen(sub))
		}
		return out
	case syntax.OpQuest:
		return append([]string{""}, gen(re.Sub[0])...)
	case syntax.OpStar:
		return repeat(re.Sub[0], 0, -1)
	case syntax.OpPlus:
		return repeat(re.Sub[0], 1, -1)
	case syntax.OpRepeat:
		return repeat(re.Sub[0], re.Min, re.Max)
	}
	return nil
}

// product is every a followed by every b, bounded.
func product(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
			if len(out) >= maxExamples*4 {
				return out
			}
		}
	}
	return out
}

// repeat gives sub repeated min, min+1 and max times (min+3 when max is
// unbounded), with sub's first example throughout, its last throughout,
// and its last followed by its first.
func repeat(sub *syntax.Regexp, min, max int) []string {
	ex := gen(sub)
	if len(ex) == 0 {
		return nil
	}
	lo, hi := ex[0], ex[len(ex)-1]
	counts := []int{min, min + 1}
	if max < 0 {
		counts = append(counts, min+3)
	} else {
		counts = append(counts, max)
	}
	var out []string
	for _, n := range counts {
		if max >= 0 && n > max {
			continue
		}
		out = append(out, strings.Repeat(lo, n), strings.Repeat(hi, n))
		if n > 0 {
			out = append(out, hi+strings.Repeat(lo, n-1))
		}
	}
	return out
}

// members returns a class's lowest and highest printable ASCII members.
func members(re *syntax.Regexp) []string {
	in := func(r rune) bool {
		switch re.Op {
		case syntax.OpAnyChar:
			return true
		case syntax.OpAnyCharNotNL:
			return r != '\n'
		}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if r >= re.Rune[i] && r <= re.Rune[i+1] {
				return true
			}
		}
		return false
	}
	var lo, hi rune = -1, -1
	for r := rune(0x21); r <= 0x7e; r++ {
		if in(r) {
			if lo < 0 {
				lo = r
			}
			hi = r
		}
	}
	switch {
	case lo < 0:
		return nil
	case lo == hi:
		return []string{string(lo)}
	}
	return []string{string(lo), string(hi)}
}

// Values lists values a parameter accepts, to try each against the code
// that reads it: its default, every AllowedValues entry, Examples of its
// AllowedPattern and, for a Number, MinValue, MaxValue and a large value
// within them. Sorted, without repeats.
func (p Parameter) Values() ([]string, error) {
	set := map[string]bool{}
	if p.Default != nil {
		set[scalar(p.Default)] = true
	}
	for _, v := range p.AllowedValues {
		set[scalar(v)] = true
	}
	ex, err := Examples(p.AllowedPattern)
	if err != nil {
		return nil, err
	}
	for _, v := range ex {
		set[v] = true
	}
	if p.Type == "Number" {
		for _, v := range []any{p.MinValue, p.MaxValue} {
			if v != nil {
				set[scalar(v)] = true
			}
		}
		if max, ok := p.MaxValue.(float64); !ok || max >= 1e6 {
			set["1000000"] = true
		}
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out, nil
}
