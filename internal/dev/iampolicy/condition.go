package iampolicy

import (
	"fmt"
	"strings"
)

// conditionsHold evaluates a statement's Condition block: every operator
// and every key must hold (AND); within a key, any value may match (OR).
func conditionsHold(block map[string]map[string][]string, ctx map[string][]string) (bool, error) {
	for op, keys := range block {
		c, err := parseOperator(op)
		if err != nil {
			return false, err
		}
		for key, want := range keys {
			got, present := lookup(ctx, key)
			ok, err := c.holds(got, present, want)
			if err != nil {
				return false, fmt.Errorf("condition %s %s: %w", op, key, err)
			}
			if !ok {
				return false, nil
			}
		}
	}
	return true, nil
}

// lookup finds a condition key; IAM's key names are case-insensitive.
func lookup(ctx map[string][]string, key string) ([]string, bool) {
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, len(v) > 0
		}
	}
	return nil, false
}

type setQualifier int

const (
	single setQualifier = iota
	forAllValues
	forAnyValue
)

// operator is a parsed condition operator: a base comparison, negated or
// not, with its set qualifier and IfExists.
type operator struct {
	name     string
	set      setQualifier
	ifExists bool
	negated  bool
	match    func(want, got string) bool
	null     bool // the Null operator
}

// parseOperator knows the string, ARN, Bool and Null operators (what the
// template's conditions use); any other is an error, so a condition is
// never silently ignored.
func parseOperator(op string) (operator, error) {
	o := operator{name: op}
	base := op
	switch {
	case strings.HasPrefix(base, "ForAllValues:"):
		o.set, base = forAllValues, strings.TrimPrefix(base, "ForAllValues:")
	case strings.HasPrefix(base, "ForAnyValue:"):
		o.set, base = forAnyValue, strings.TrimPrefix(base, "ForAnyValue:")
	}
	if b, ok := strings.CutSuffix(base, "IfExists"); ok && b != "Null" {
		o.ifExists, base = true, b
	}
	equals := func(w, g string) bool { return w == g }
	fold := strings.EqualFold
	like := func(w, g string) bool { return glob(w, g) }
	switch base {
	case "StringEquals", "ArnEquals":
		o.match = equals
	case "StringNotEquals", "ArnNotEquals":
		o.match, o.negated = equals, true
	case "StringEqualsIgnoreCase":
		o.match = fold
	case "StringNotEqualsIgnoreCase":
		o.match, o.negated = fold, true
	case "StringLike", "ArnLike":
		o.match = like
	case "StringNotLike", "ArnNotLike":
		o.match, o.negated = like, true
	case "Bool":
		o.match = fold
	case "Null":
		if o.set != single || o.ifExists {
			return o, fmt.Errorf("condition operator %s: Null takes no qualifier", op)
		}
		o.null = true
	default:
		return o, fmt.Errorf("condition operator %s is not supported by this evaluator", op)
	}
	return o, nil
}

// holds evaluates one key of the operator: got are the request's values
// (present false when the key is absent), want the policy's.
func (o operator) holds(got []string, present bool, want []string) (bool, error) {
	for _, w := range want {
		if strings.Contains(w, "${") {
			return false, fmt.Errorf("policy variable in %q is not supported by this evaluator", w)
		}
	}
	if o.null {
		if len(want) != 1 || (!strings.EqualFold(want[0], "true") && !strings.EqualFold(want[0], "false")) {
			return false, fmt.Errorf("operator Null wants true or false, got %v", want)
		}
		return strings.EqualFold(want[0], "true") != present, nil
	}
	anyWant := func(g string) bool {
		for _, w := range want {
			if o.match(w, g) {
				return true
			}
		}
		return false
	}
	// matches is the comparison of one request value, negation applied.
	matches := func(g string) bool { return anyWant(g) != o.negated }
	switch o.set {
	case forAllValues:
		// Vacuously true for an absent or empty key, as in IAM.
		for _, g := range got {
			if !matches(g) {
				return false, nil
			}
		}
		return true, nil
	case forAnyValue:
		if !present {
			return o.ifExists, nil
		}
		for _, g := range got {
			if matches(g) {
				return true, nil
			}
		}
		return false, nil
	}
	if !present {
		// A missing key matches only IfExists, or a negated operator.
		return o.ifExists || o.negated, nil
	}
	if o.negated {
		for _, g := range got {
			if anyWant(g) {
				return false, nil
			}
		}
		return true, nil
	}
	for _, g := range got {
		if anyWant(g) {
			return true, nil
		}
	}
	return false, nil
}
