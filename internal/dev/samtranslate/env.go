package samtranslate

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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

// LocalPseudo are the pseudo parameters' values for a local stack.
var LocalPseudo = Pseudo("us-east-1", "123456789012", "aws", "tollgate")

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
	if v == nil {
		return ""
	}
	if s, err := String(v); err == nil {
		return s
	}
	return fmt.Sprint(v)
}

// Environment resolves the environment of function fn for a local stack:
// every variable the template sets, with its local value, and those left
// out (ErrLeftOut) listed apart.
func (t *Template) Environment(fn Function, l Locals) (vars map[string]string, leftOut []string, err error) {
	e, err := t.localEvaluator(l)
	if err != nil {
		return nil, nil, err
	}
	vars = map[string]string{}
	for k, raw := range fn.Variables {
		v, err := evalString(e, raw)
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

// Evaluator returns an evaluator of the template's intrinsics with the
// given parameter values (defaults for the others) and pseudo parameters;
// the caller sets how resources' Ref and GetAtt resolve.
func (t *Template) Evaluator(given map[string]string, pseudo map[string]string) (*Evaluator, error) {
	params, err := t.ParameterValues(given)
	if err != nil {
		return nil, err
	}
	conditions := make(map[string]any, len(t.Conditions))
	for name, raw := range t.Conditions {
		var c any
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("condition %s: %w", name, err)
		}
		conditions[name] = c
	}
	return &Evaluator{Params: params, Pseudo: pseudo, Conditions: conditions}, nil
}

// localEvaluator evaluates for a local stack: a resource's Ref is what
// l.Resource gives, else left out, as is every GetAtt.
func (t *Template) localEvaluator(l Locals) (*Evaluator, error) {
	e, err := t.Evaluator(l.Parameters, LocalPseudo)
	if err != nil {
		return nil, err
	}
	e.Ref = func(id string) (any, error) {
		if _, ok := t.Resources[id]; !ok {
			return nil, errors.New("no such parameter or resource")
		}
		if l.Resource != nil {
			if v, ok := l.Resource(id); ok {
				return v, nil
			}
		}
		return nil, ErrLeftOut
	}
	e.GetAtt = func(string, string) (any, error) { return nil, ErrLeftOut }
	return e, nil
}

// evalString evaluates a raw JSON value to a string.
func evalString(e *Evaluator, raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	v, err := e.Eval(v)
	if err != nil {
		return "", err
	}
	return String(v)
}
