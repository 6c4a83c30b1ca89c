package deployrehearsal

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Resolver evaluates the intrinsic functions of a template (Ref, Fn::GetAtt,
// Fn::Sub, Fn::If, Fn::Join, conditions with Fn::Equals/Fn::Not) the way
// CloudFormation does for one stack, from the created resources' physical
// ids and attributes: what a property should be once created.
type Resolver struct {
	Stack      string
	Params     map[string]string                     // every parameter's value (defaults included)
	Physical   map[string]string                     // logical id -> physical id (Ref)
	Attr       func(id, attr string) (string, error) // Fn::GetAtt
	Conditions map[string]any                        // the template's Conditions
}

// noValue is AWS::NoValue: the property or element is left out.
type noValue struct{}

// Eval resolves v.
func (r *Resolver) Eval(v any) (any, error) {
	switch v := v.(type) {
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			e, err := r.Eval(e)
			if err != nil {
				return nil, err
			}
			if _, skip := e.(noValue); !skip {
				out = append(out, e)
			}
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return r.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			e, err := r.Eval(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, skip := e.(noValue); !skip {
				out[k] = e
			}
		}
		return out, nil
	}
	return v, nil
}

func (r *Resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		if name == "AWS::NoValue" {
			return noValue{}, nil
		}
		return r.ref(name)
	case "Fn::GetAtt":
		id, attr := getAtt(arg)
		return r.Attr(id, attr)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::If":
		list, _ := arg.([]any)
		if len(list) != 3 {
			return nil, fmt.Errorf("Fn::If %v", arg)
		}
		name, _ := list[0].(string)
		ok, err := r.condition(name)
		if err != nil {
			return nil, err
		}
		if ok {
			return r.Eval(list[1])
		}
		return r.Eval(list[2])
	case "Fn::Join":
		list, _ := arg.([]any)
		if len(list) != 2 {
			return nil, fmt.Errorf("Fn::Join %v", arg)
		}
		parts, err := r.Eval(list[1])
		if err != nil {
			return nil, err
		}
		var strs []string
		for _, p := range parts.([]any) {
			strs = append(strs, fmt.Sprint(p))
		}
		sep, _ := list[0].(string)
		return strings.Join(strs, sep), nil
	}
	return nil, fmt.Errorf("intrinsic %s not known to the rehearsal's resolver", fn)
}

func (r *Resolver) ref(name string) (string, error) {
	switch name {
	case "AWS::Region":
		return Region, nil
	case "AWS::AccountId":
		return Account, nil
	case "AWS::Partition":
		return Partition, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return r.Stack, nil
	}
	if v, ok := r.Params[name]; ok {
		return v, nil
	}
	if v, ok := r.Physical[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no parameter or created resource %s (Ref)", name)
}

func (r *Resolver) sub(arg any) (any, error) {
	s, vars := subParts(arg)
	var firstErr error
	out := subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		var v any
		var err error
		if local, ok := vars[name]; ok {
			v, err = r.Eval(local)
		} else if id, attr, dotted := strings.Cut(name, "."); dotted {
			v, err = r.Attr(id, attr)
		} else {
			v, err = r.ref(name)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return fmt.Sprint(v)
	})
	return strings.ReplaceAll(out, "${!", "${"), firstErr
}

func (r *Resolver) condition(name string) (bool, error) {
	c, ok := r.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s not in the template", name)
	}
	return r.truth(c)
}

func (r *Resolver) truth(c any) (bool, error) {
	m, _ := c.(map[string]any)
	if len(m) != 1 {
		return false, fmt.Errorf("condition %v", c)
	}
	for fn, arg := range m {
		list, _ := arg.([]any)
		switch fn {
		case "Condition":
			name, _ := arg.(string)
			return r.condition(name)
		case "Fn::Equals":
			if len(list) != 2 {
				return false, fmt.Errorf("Fn::Equals %v", arg)
			}
			a, err := r.Eval(list[0])
			if err != nil {
				return false, err
			}
			b, err := r.Eval(list[1])
			if err != nil {
				return false, err
			}
			return fmt.Sprint(a) == fmt.Sprint(b), nil
		case "Fn::Not":
			if len(list) != 1 {
				return false, fmt.Errorf("Fn::Not %v", arg)
			}
			ok, err := r.truth(list[0])
			return !ok, err
		}
		return false, fmt.Errorf("condition function %s not known to the rehearsal's resolver", fn)
	}
	return false, errors.New("empty condition")
}

// ParamValues is every parameter's value: the override, else the default.
func ParamValues(params map[string]any, overrides map[string]string) map[string]string {
	out := map[string]string{}
	for name, p := range params {
		if d, ok := p.(map[string]any)["Default"]; ok {
			out[name] = scalar(d)
		}
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out
}

func scalar(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
