package samtranslate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Evaluator evaluates the intrinsic functions of an expanded template the
// way CloudFormation does for one stack: Ref (parameters, pseudo
// parameters, resources), Fn::GetAtt, Fn::Sub (both forms), Fn::Join,
// Fn::Select, Fn::If and the condition functions (Fn::Equals, Fn::Not,
// Fn::And, Fn::Or, Condition). What differs from one stack to another is
// the caller's: parameter values, pseudo-parameter values, and what a
// resource's Ref and Fn::GetAtt give. Any other intrinsic is an error.
type Evaluator struct {
	// Params are every parameter's value (see Template.ParameterValues).
	Params map[string]string
	// Pseudo are the pseudo parameters' values (AWS::Region,
	// AWS::AccountId, AWS::Partition, AWS::StackName, AWS::URLSuffix);
	// AWS::NoValue needs none.
	Pseudo map[string]string
	// Ref is a Ref to a name that is neither parameter nor pseudo
	// parameter: a resource's value, or an error.
	Ref func(logicalID string) (any, error)
	// GetAtt is a resource attribute's value, or an error.
	GetAtt func(logicalID, attr string) (any, error)
	// Conditions are the template's Conditions, decoded.
	Conditions map[string]any
}

// NoValue is what a Ref to AWS::NoValue evaluates to: Eval leaves such a
// property or list element out.
var NoValue = noValue{}

type noValue struct{}

func (noValue) String() string { return "" }

// Pseudo returns the pseudo parameters' values of a stack.
func Pseudo(region, account, partition, stack string) map[string]string {
	return map[string]string{
		"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": partition,
		"AWS::StackName": stack, "AWS::URLSuffix": "amazonaws.com",
	}
}

// Eval evaluates v, a value decoded from the template's JSON: its
// intrinsics replaced by their values, properties and elements that are
// AWS::NoValue left out.
func (e *Evaluator) Eval(v any) (any, error) {
	switch v := v.(type) {
	case []any:
		out := make([]any, 0, len(v))
		for i, el := range v {
			rv, err := e.Eval(el)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if rv != NoValue {
				out = append(out, rv)
			}
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for fn, arg := range v {
				if fn == "Ref" || strings.HasPrefix(fn, "Fn::") {
					return e.intrinsic(fn, arg)
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, el := range v {
			rv, err := e.Eval(el)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if rv != NoValue {
				out[k] = rv
			}
		}
		return out, nil
	}
	return v, nil
}

// String is a scalar value as CloudFormation makes it a string (numbers
// without exponent, booleans true or false; AWS::NoValue is ""). A list or
// an object is an error.
func String(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	case noValue:
		return "", nil
	case nil:
		return "", errors.New("null is not a string")
	}
	return "", fmt.Errorf("%v is not a string", v)
}

// GetAttArgs splits the argument of a Fn::GetAtt, [id, attr] or "id.attr".
func GetAttArgs(arg any) (id, attr string, ok bool) {
	switch a := arg.(type) {
	case []any:
		if len(a) == 2 {
			id, _ = a[0].(string)
			attr, _ = a[1].(string)
		}
	case string:
		id, attr, _ = strings.Cut(a, ".")
	}
	return id, attr, id != "" && attr != ""
}

// SubArgs splits the argument of a Fn::Sub, "text" or ["text", {vars}].
func SubArgs(arg any) (text string, vars map[string]any, ok bool) {
	switch a := arg.(type) {
	case string:
		return a, nil, true
	case []any:
		if len(a) != 2 {
			return "", nil, false
		}
		text, ok1 := a[0].(string)
		vars, ok2 := a[1].(map[string]any)
		return text, vars, ok1 && ok2
	}
	return "", nil, false
}

func (e *Evaluator) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("a Ref to %v: not a name", arg)
		}
		return e.ref(name)
	case "Fn::GetAtt":
		id, attr, ok := GetAttArgs(arg)
		if !ok {
			return nil, fmt.Errorf("Fn::GetAtt %v: want [resource, attribute]", arg)
		}
		return e.getAtt(id, attr)
	case "Fn::Sub":
		return e.sub(arg)
	case "Fn::Join":
		return e.join(arg)
	case "Fn::Select":
		return e.selectFn(arg)
	case "Fn::If":
		a, _ := arg.([]any)
		if len(a) != 3 {
			return nil, fmt.Errorf("Fn::If %v: want [condition, then, else]", arg)
		}
		name, _ := a[0].(string)
		yes, err := e.Condition(name)
		if err != nil {
			return nil, fmt.Errorf("Fn::If %s: %w", name, err)
		}
		branch := a[2]
		if yes {
			branch = a[1]
		}
		v, err := e.Eval(branch)
		if err != nil {
			return nil, fmt.Errorf("Fn::If %s: %w", name, err)
		}
		return v, nil
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return e.truth(map[string]any{fn: arg})
	}
	return nil, fmt.Errorf("intrinsic %s is not supported", fn)
}

func (e *Evaluator) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return NoValue, nil
	}
	if v, ok := e.Params[name]; ok {
		return v, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		if v, ok := e.Pseudo[name]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("a Ref to %s: pseudo parameter not supported", name)
	}
	if e.Ref == nil {
		return nil, fmt.Errorf("a Ref to %s: no such parameter", name)
	}
	v, err := e.Ref(name)
	if err != nil {
		return nil, fmt.Errorf("a Ref to %s: %w", name, err)
	}
	return v, nil
}

func (e *Evaluator) getAtt(id, attr string) (any, error) {
	if e.GetAtt == nil {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: no attributes here", id, attr)
	}
	v, err := e.GetAtt(id, attr)
	if err != nil {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: %w", id, attr, err)
	}
	return v, nil
}

// sub evaluates a Fn::Sub: ${Name} (a variable of the map, a parameter, a
// pseudo parameter or a resource's Ref), ${Resource.Attr} (its GetAtt) and
// ${!Literal} (the text ${Literal}).
func (e *Evaluator) sub(arg any) (any, error) {
	text, vars, ok := SubArgs(arg)
	if !ok {
		return nil, fmt.Errorf("Fn::Sub %v: want text or [text, variables]", arg)
	}
	var b strings.Builder
	for rest := text; ; {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("Fn::Sub %q: ${ not closed", text)
		}
		name := rest[i+2 : i+j]
		rest = rest[i+j+1:]
		if lit, ok := strings.CutPrefix(name, "!"); ok {
			b.WriteString("${" + lit + "}")
			continue
		}
		var v any
		var err error
		if given, ok := vars[name]; ok {
			v, err = e.Eval(given)
		} else if id, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			v, err = e.getAtt(id, attr)
		} else {
			v, err = e.ref(name)
		}
		if err == nil {
			var s string
			s, err = String(v)
			b.WriteString(s)
		}
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub %q ${%s}: %w", text, name, err)
		}
	}
}

// list evaluates an argument that must give a list (AWS::NoValue elements
// left out).
func (e *Evaluator) list(fn string, arg any) ([]any, error) {
	v, err := e.Eval(arg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s %v: not a list", fn, arg)
	}
	return l, nil
}

func (e *Evaluator) join(arg any) (any, error) {
	a, _ := arg.([]any)
	if len(a) != 2 {
		return nil, fmt.Errorf("Fn::Join %v: want [delimiter, list]", arg)
	}
	sep, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("Fn::Join %v: the delimiter is not a string", arg)
	}
	items, err := e.list("Fn::Join", a[1])
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(items))
	for i, it := range items {
		if parts[i], err = String(it); err != nil {
			return nil, fmt.Errorf("Fn::Join [%d]: %w", i, err)
		}
	}
	return strings.Join(parts, sep), nil
}

func (e *Evaluator) selectFn(arg any) (any, error) {
	a, _ := arg.([]any)
	if len(a) != 2 {
		return nil, fmt.Errorf("Fn::Select %v: want [index, list]", arg)
	}
	iv, err := e.Eval(a[0])
	if err != nil {
		return nil, fmt.Errorf("Fn::Select index: %w", err)
	}
	is, err := String(iv)
	if err != nil {
		return nil, fmt.Errorf("Fn::Select index: %w", err)
	}
	i, err := strconv.Atoi(is)
	if err != nil {
		return nil, fmt.Errorf("Fn::Select index %q: not a whole number", is)
	}
	items, err := e.list("Fn::Select", a[1])
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(items) {
		return nil, fmt.Errorf("Fn::Select index %d: out of a list of %d", i, len(items))
	}
	return items[i], nil
}

// Condition evaluates the template's condition called name.
func (e *Evaluator) Condition(name string) (bool, error) {
	c, ok := e.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not in the template", name)
	}
	b, err := e.truth(c)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	return b, nil
}

// truth evaluates a condition function: Fn::Equals, Fn::Not, Fn::And,
// Fn::Or or Condition.
func (e *Evaluator) truth(c any) (bool, error) {
	m, _ := c.(map[string]any)
	if len(m) != 1 {
		return false, fmt.Errorf("%v is not a condition function", c)
	}
	for fn, arg := range m {
		if fn == "Condition" {
			name, ok := arg.(string)
			if !ok {
				return false, fmt.Errorf("Condition %v: not a name", arg)
			}
			return e.Condition(name)
		}
		args, _ := arg.([]any)
		switch fn {
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals %v: want two values", arg)
			}
			var s [2]string
			for i, a := range args {
				v, err := e.Eval(a)
				if err == nil {
					s[i], err = String(v)
				}
				if err != nil {
					return false, fmt.Errorf("Fn::Equals [%d]: %w", i, err)
				}
			}
			return s[0] == s[1], nil
		case "Fn::Not":
			if len(args) != 1 {
				return false, fmt.Errorf("Fn::Not %v: want one condition", arg)
			}
			b, err := e.truth(args[0])
			if err != nil {
				return false, fmt.Errorf("Fn::Not: %w", err)
			}
			return !b, nil
		case "Fn::And", "Fn::Or":
			if len(args) < 1 {
				return false, fmt.Errorf("%s %v: want conditions", fn, arg)
			}
			all := fn == "Fn::And"
			result := all
			for i, a := range args {
				b, err := e.truth(a)
				if err != nil {
					return false, fmt.Errorf("%s [%d]: %w", fn, i, err)
				}
				if b != all {
					result = b
				}
			}
			return result, nil
		}
		return false, fmt.Errorf("condition function %s is not supported", fn)
	}
	return false, nil
}
