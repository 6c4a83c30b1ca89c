package deployrehearsal

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
)

// Resolver evaluates the intrinsic functions of a template the way
// CloudFormation does for one stack (samtranslate.Evaluator), from the
// created resources' physical ids and attributes: what a property should
// be once created.
type Resolver struct {
	Stack      string
	Params     map[string]string                     // every parameter's value (defaults included)
	Physical   map[string]string                     // logical id -> physical id (Ref)
	Attr       func(id, attr string) (string, error) // Fn::GetAtt
	Conditions map[string]any                        // the template's Conditions
}

// Eval resolves v.
func (r *Resolver) Eval(v any) (any, error) {
	e := &samtranslate.Evaluator{
		Params:     r.Params,
		Pseudo:     samtranslate.Pseudo(Region, Account, Partition, r.Stack),
		Conditions: r.Conditions,
		Ref: func(id string) (any, error) {
			if v, ok := r.Physical[id]; ok {
				return v, nil
			}
			return nil, fmt.Errorf("no parameter or created resource %s", id)
		},
		GetAtt: func(id, attr string) (any, error) { return r.Attr(id, attr) },
	}
	return e.Eval(v)
}

// ParamValues is every parameter's value: the override, else the default.
func ParamValues(params map[string]any, overrides map[string]string) map[string]string {
	out := map[string]string{}
	for name, p := range params {
		if d, ok := p.(map[string]any)["Default"]; ok {
			s, err := samtranslate.String(d)
			if err != nil {
				s = fmt.Sprint(d)
			}
			out[name] = s
		}
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out
}
