// Package iampolicy evaluates IAM identity policies as AWS does, so local
// runs and tests hold every function to the role template.yaml gives it:
// Roles reads each function's policies from the template as SAM expands it
// (internal/dev/samtranslate), Evaluate decides a request (explicit Deny
// wins, then Allow, else the implicit deny), and Guard checks the DynamoDB
// calls and secret reads of each function of a local stack, answering a
// denied one as AWS would and recording it.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Policy is one policy document of a role.
type Policy struct {
	Name       string // the inline policy's name, or the managed policy's ARN
	Statements []Statement
}

// Statement is one statement of a policy document. Action, Resource and
// their Not forms hold the patterns as written (resolved to concrete ARNs).
type Statement struct {
	Sid         string
	Effect      string // Allow or Deny
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	// Condition maps an operator ("ForAllValues:StringEquals") to its keys
	// and their values.
	Condition map[string]map[string][]string
}

// Request is one authorization request: what IAM evaluates for each action
// a call needs on each resource.
type Request struct {
	Action   string // service:Action
	Resource string // ARN
	// Context holds the request's condition keys ("dynamodb:Attributes")
	// and their values; a key absent from it is absent from the request.
	Context map[string][]string
}

// Decision is the outcome of an evaluation.
type Decision int

// Decisions, as IAM names them.
const (
	ImplicitDeny Decision = iota // no statement allows it
	Allowed
	ExplicitDeny // a Deny statement matches
)

func (d Decision) String() string {
	return [...]string{"implicit deny", "allow", "explicit deny"}[d]
}

// Grant locates one permission of a role: the Action (or NotAction) element
// a of statement s of policy p, on its Resource (or NotResource) element r.
// A Not element has index -1 (the statement's whole Not list).
type Grant struct {
	Policy, Statement, Action, Resource int
}

// Result is a decision and, when allowed, the grants that allowed it.
type Result struct {
	Decision Decision
	Grants   []Grant
}

// Evaluate decides r against policies as IAM evaluates identity policies:
// an explicit Deny wins, then an Allow; nothing matching is an implicit
// deny. A condition it cannot evaluate (an unknown operator) is an error,
// never a silent match.
func Evaluate(policies []Policy, r Request) (Result, error) {
	var res Result
	for pi, p := range policies {
		for si, s := range p.Statements {
			actions, ok := matchElement(s.Action, s.NotAction, r.Action, matchAction)
			if !ok {
				continue
			}
			resources, ok := matchElement(s.Resource, s.NotResource, r.Resource, matchResource)
			if !ok {
				continue
			}
			ok, err := conditionsHold(s.Condition, r.Context)
			if err != nil {
				return Result{}, fmt.Errorf("policy %s statement %s: %w", p.Name, sidOrIndex(s, si), err)
			}
			if !ok {
				continue
			}
			switch s.Effect {
			case "Deny":
				return Result{Decision: ExplicitDeny}, nil
			case "Allow":
				res.Decision = Allowed
				for _, a := range actions {
					for _, rr := range resources {
						res.Grants = append(res.Grants, Grant{Policy: pi, Statement: si, Action: a, Resource: rr})
					}
				}
			default:
				return Result{}, fmt.Errorf("policy %s statement %s: Effect %q is neither Allow nor Deny", p.Name, sidOrIndex(s, si), s.Effect)
			}
		}
	}
	return res, nil
}

func sidOrIndex(s Statement, i int) string {
	if s.Sid != "" {
		return s.Sid
	}
	return fmt.Sprint(i)
}

// matchElement matches v against a statement's element (patterns) or its
// Not form, returning the indexes of the patterns that match (-1 for a Not
// element that matches, i.e. v is in none of its patterns).
func matchElement(patterns, not []string, v string, match func(pattern, v string) bool) ([]int, bool) {
	if not != nil {
		for _, p := range not {
			if match(p, v) {
				return nil, false
			}
		}
		return []int{-1}, true
	}
	var idx []int
	for i, p := range patterns {
		if match(p, v) {
			idx = append(idx, i)
		}
	}
	return idx, len(idx) > 0
}

// matchAction matches "service:Action" patterns: service prefixes and
// action names are case-insensitive.
func matchAction(pattern, action string) bool {
	return glob(strings.ToLower(pattern), strings.ToLower(action))
}

// matchResource matches ARN patterns, which are case-sensitive.
func matchResource(pattern, arn string) bool { return glob(pattern, arn) }

// glob matches s against pattern where * is any run of characters
// (including none) and ? exactly one.
func glob(pattern, s string) bool {
	// Iterative matching with backtracking to the last *.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ParseStatements reads the Statement element of a policy document
// (intrinsics already resolved): each element may be a string or a list.
func ParseStatements(doc any) ([]Statement, error) {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("policy document is %T, not an object", doc)
	}
	raw := m["Statement"]
	list, isList := raw.([]any)
	if !isList {
		list = []any{raw}
	}
	out := make([]Statement, 0, len(list))
	for i, r := range list {
		st, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("statement %d is %T, not an object", i, r)
		}
		var s Statement
		var err error
		for k, v := range st {
			switch k {
			case "Sid":
				s.Sid, _ = v.(string)
			case "Effect":
				s.Effect, _ = v.(string)
			case "Action":
				s.Action, err = stringList(v)
			case "NotAction":
				s.NotAction, err = stringList(v)
			case "Resource":
				s.Resource, err = stringList(v)
			case "NotResource":
				s.NotResource, err = stringList(v)
			case "Condition":
				s.Condition, err = conditionBlock(v)
			case "Principal", "NotPrincipal":
				err = fmt.Errorf("%s in an identity policy", k)
			default:
				err = fmt.Errorf("unknown element %s", k)
			}
			if err != nil {
				return nil, fmt.Errorf("statement %d (%s): %s: %w", i, s.Sid, k, err)
			}
		}
		if (s.Action == nil) == (s.NotAction == nil) || (s.Resource == nil) == (s.NotResource == nil) {
			return nil, fmt.Errorf("statement %d (%s): needs exactly one of Action/NotAction and one of Resource/NotResource", i, s.Sid)
		}
		out = append(out, s)
	}
	return out, nil
}

func stringList(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%v (%T) is not a string", e, e)
			}
			out = append(out, s)
		}
		return out, nil
	case bool, float64, json.Number:
		return []string{fmt.Sprint(v)}, nil
	}
	return nil, fmt.Errorf("%v (%T) is neither a string nor a list", v, v)
}

func conditionBlock(v any) (map[string]map[string][]string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%T is not an object", v)
	}
	out := map[string]map[string][]string{}
	for op, keys := range m {
		km, ok := keys.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %T is not an object", op, keys)
		}
		out[op] = map[string][]string{}
		for k, vals := range km {
			l, err := stringList(vals)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", op, k, err)
			}
			out[op][k] = l
		}
	}
	return out, nil
}
