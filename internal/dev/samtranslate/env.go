package samtranslate

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Function is what an expanded AWS::Lambda::Function runs with: its
// timeout and its environment (Globals merged with its own), the values
// still CloudFormation's (strings or intrinsics).
type Function struct {
	LogicalID string
	// Timeout is the Lambda timeout (Lambda's default, 3 s, when unset).
	Timeout time.Duration
	// Variables are the environment variables as the template sets them.
	Variables map[string]json.RawMessage
}

// DefaultTimeout is Lambda's timeout for a function that sets none.
const DefaultTimeout = 3 * time.Second

// Functions returns the expanded template's Lambda functions by logical id.
func (t *Template) Functions() (map[string]Function, error) {
	out := map[string]Function{}
	for _, id := range t.OfType("AWS::Lambda::Function") {
		var p struct {
			Timeout     json.RawMessage `json:"Timeout"`
			Environment struct {
				Variables map[string]json.RawMessage `json:"Variables"`
			} `json:"Environment"`
		}
		if err := json.Unmarshal(t.Resources[id].Properties, &p); err != nil {
			return nil, fmt.Errorf("function %s: %w", id, err)
		}
		fn := Function{LogicalID: id, Timeout: DefaultTimeout, Variables: p.Environment.Variables}
		if fn.Variables == nil {
			fn.Variables = map[string]json.RawMessage{}
		}
		if len(p.Timeout) > 0 {
			var secs float64
			if err := json.Unmarshal(p.Timeout, &secs); err != nil {
				return nil, fmt.Errorf("function %s: Timeout %s is not a number of seconds", id, p.Timeout)
			}
			fn.Timeout = time.Duration(secs * float64(time.Second))
		}
		out[id] = fn
	}
	return out, nil
}

// Locals says how references resolve for a stack outside AWS.
type Locals struct {
	// Parameters are given parameter values; a parameter not given is its
	// default.
	Parameters map[string]string
	// Resource is the local value of a Ref to a resource (a table's local
	// name); false leaves the variable out.
	Resource func(logicalID string) (string, bool)
}

// ErrLeftOut is returned by Resolve for a value that has no local meaning
// (a Ref to a resource Locals.Resource does not resolve, a GetAtt).
var ErrLeftOut = errors.New("no local value")

// pseudo are the pseudo parameters' values for a local stack.
var pseudo = map[string]string{
	"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
	"AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "tollgate", "AWS::NoValue": "",
}

// ParameterValues returns every parameter's value: given or its default.
// A given value for a parameter the template lacks is an error.
func (t *Template) ParameterValues(given map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(t.Parameters))
	for name, p := range t.Parameters {
		out[name] = scalar(p.Default)
	}
	for name, v := range given {
		if _, ok := t.Parameters[name]; !ok {
			return nil, fmt.Errorf("parameter %s is not in the template", name)
		}
		out[name] = v
	}
	return out, nil
}

// scalar is a parameter default as a string ("" when there is none).
func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// Environment resolves the environment of function fn for a local stack:
// every variable the template sets, with its local value, and those left
// out (ErrLeftOut) listed apart.
func (t *Template) Environment(fn Function, l Locals) (vars map[string]string, leftOut []string, err error) {
	r, err := t.resolver(l)
	if err != nil {
		return nil, nil, err
	}
	vars = map[string]string{}
	for k, raw := range fn.Variables {
		v, err := r.resolve(raw)
		switch {
		case errors.Is(err, ErrLeftOut):
			leftOut = append(leftOut, k)
		case err != nil:
			return nil, nil, fmt.Errorf("function %s: %s: %w", fn.LogicalID, k, err)
		default:
			vars[k] = v
		}
	}
	sort.Strings(leftOut)
	return vars, leftOut, nil
}

type resolver struct {
	t          *Template
	params     map[string]string
	resource   func(string) (string, bool)
	conditions map[string]json.RawMessage
}

func (t *Template) resolver(l Locals) (*resolver, error) {
	params, err := t.ParameterValues(l.Parameters)
	if err != nil {
		return nil, err
	}
	res := l.Resource
	if res == nil {
		res = func(string) (string, bool) { return "", false }
	}
	return &resolver{t: t, params: params, resource: res, conditions: t.Conditions}, nil
}

// resolve evaluates a CloudFormation value: a scalar, Ref, Fn::Sub, Fn::If,
// Fn::Join and the condition functions.
func (r *resolver) resolve(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	return r.value(v)
}

func (r *resolver) value(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	case map[string]any:
		if len(v) != 1 {
			return "", fmt.Errorf("an object that is no intrinsic function: %v", v)
		}
		for fn, arg := range v {
			return r.intrinsic(fn, arg)
		}
	}
	return "", fmt.Errorf("unsupported value %v", v)
}

func (r *resolver) ref(name string) (string, error) {
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	if v, ok := pseudo[name]; ok {
		return v, nil
	}
	if _, ok := r.t.Resources[name]; ok {
		if v, ok := r.resource(name); ok {
			return v, nil
		}
		return "", fmt.Errorf("a Ref to %s: %w", name, ErrLeftOut)
	}
	return "", fmt.Errorf("a Ref to %s: no such parameter or resource", name)
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

func (r *resolver) intrinsic(fn string, arg any) (string, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return "", fmt.Errorf("a Ref to %v: not a name", arg)
		}
		return r.ref(name)
	case "Fn::GetAtt", "Fn::ImportValue", "Fn::GetAZs":
		return "", fmt.Errorf("%s: %w", fn, ErrLeftOut)
	case "Fn::Sub":
		text, vars := "", map[string]any{}
		switch a := arg.(type) {
		case string:
			text = a
		case []any:
			if len(a) != 2 {
				return "", fmt.Errorf("Fn::Sub %v", arg)
			}
			text, _ = a[0].(string)
			vars, _ = a[1].(map[string]any)
		}
		var failed error
		out := subVar.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			var v string
			var err error
			if given, ok := vars[name]; ok {
				v, err = r.value(given)
			} else if strings.Contains(name, ".") {
				err = fmt.Errorf("${%s}: %w", name, ErrLeftOut)
			} else {
				v, err = r.ref(name)
			}
			if err != nil && failed == nil {
				failed = err
			}
			return v
		})
		return out, failed
	case "Fn::Join":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return "", fmt.Errorf("Fn::Join %v", arg)
		}
		sep, _ := a[0].(string)
		items, _ := a[1].([]any)
		parts := make([]string, len(items))
		for i, it := range items {
			v, err := r.value(it)
			if err != nil {
				return "", err
			}
			parts[i] = v
		}
		return strings.Join(parts, sep), nil
	case "Fn::If":
		a, ok := arg.([]any)
		if !ok || len(a) != 3 {
			return "", fmt.Errorf("Fn::If %v", arg)
		}
		name, _ := a[0].(string)
		yes, err := r.condition(name)
		if err != nil {
			return "", err
		}
		if yes {
			return r.value(a[1])
		}
		return r.value(a[2])
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		b, err := r.boolean(map[string]any{fn: arg})
		return strconv.FormatBool(b), err
	}
	return "", fmt.Errorf("unsupported intrinsic function %s", fn)
}

func (r *resolver) condition(name string) (bool, error) {
	raw, ok := r.conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, err
	}
	return r.boolean(v)
}

func (r *resolver) boolean(v any) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("condition %v", v)
	}
	for fn, arg := range m {
		if fn == "Condition" {
			name, _ := arg.(string)
			return r.condition(name)
		}
		args, _ := arg.([]any)
		switch fn {
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals %v", arg)
			}
			a, err := r.value(args[0])
			if err != nil {
				return false, err
			}
			b, err := r.value(args[1])
			return a == b, err
		case "Fn::Not":
			if len(args) != 1 {
				return false, fmt.Errorf("Fn::Not %v", arg)
			}
			b, err := r.boolean(args[0])
			return !b, err
		case "Fn::And", "Fn::Or":
			all := fn == "Fn::And"
			for _, c := range args {
				b, err := r.boolean(c)
				if err != nil {
					return false, err
				}
				if b != all {
					return !all, nil
				}
			}
			return all, nil
		}
		return false, fmt.Errorf("unsupported condition function %s", fn)
	}
	return false, nil
}
