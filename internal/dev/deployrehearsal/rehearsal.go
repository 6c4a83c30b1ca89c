// Package deployrehearsal rehearses `sam deploy` against moto_server: the
// template expanded by samtranslator (SAM's own transform), with the
// resource types moto's CloudFormation cannot create taken out by an
// explicit list (Types) and every reference to them replaced by a named
// placeholder, is created as a stack whose resources the test then compares
// with the template.
package deployrehearsal

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
)

// Kind is what the rehearsal knows of one resource type.
type Kind struct {
	// Moto: moto_server's CloudFormation creates it. Otherwise Unsupported
	// says why it is left out of the stack moto creates.
	Moto        bool
	Unsupported string
	// NameProperty is the property giving the resource a name that is
	// unique per account and region ("" when the type has none): two stacks
	// in one account collide unless it carries the stack's name.
	NameProperty string
}

// Types lists every resource type the expanded template may hold. A type
// not listed fails the rehearsal: it must be classified here first.
var Types = map[string]Kind{
	"AWS::DynamoDB::Table":            {Moto: true, NameProperty: "TableName"},
	"AWS::IAM::Role":                  {Moto: true, NameProperty: "RoleName"},
	"AWS::Lambda::Function":           {Moto: true, NameProperty: "FunctionName"},
	"AWS::Lambda::Permission":         {Moto: true},
	"AWS::Lambda::EventSourceMapping": {Moto: true},
	"AWS::SQS::Queue":                 {Moto: true, NameProperty: "QueueName"},
	"AWS::Logs::LogGroup":             {Moto: true, NameProperty: "LogGroupName"},
	"AWS::SNS::Topic":                 {Moto: true, NameProperty: "TopicName"},
	"AWS::CloudWatch::Dashboard":      {Moto: true, NameProperty: "DashboardName"},
	// Alarms: created through moto's CloudWatch API instead (a stand-in).
	"AWS::CloudWatch::Alarm":     {Unsupported: "moto 5.2.1's CloudFormation has no CloudWatch::Alarm model (its CloudWatch API has alarms)", NameProperty: "AlarmName"},
	"AWS::SNS::Subscription":     {Unsupported: "moto 5.2.1's CloudFormation has no SNS::Subscription model"},
	"AWS::Logs::QueryDefinition": {Unsupported: "moto 5.2.1's CloudFormation has no Logs::QueryDefinition model (nor its Logs API)", NameProperty: "Name"},
	// Name is a label (HTTP API names need not be unique).
	"AWS::ApiGatewayV2::Api": {Unsupported: "moto 5.2.1's CloudFormation has no ApiGatewayV2 (HTTP API) model"},
	// StageName is unique within its API only.
	"AWS::ApiGatewayV2::Stage":    {Unsupported: "moto 5.2.1's CloudFormation has no ApiGatewayV2 (HTTP API) model"},
	"AWS::Scheduler::Schedule":    {Unsupported: "moto 5.2.1's CloudFormation has no EventBridge Scheduler model", NameProperty: "Name"},
	"AWS::SecretsManager::Secret": {Unsupported: "moto 5.2.1's CloudFormation has no SecretsManager::Secret model (its Secrets Manager API has one, its CloudFormation not)", NameProperty: "Name"},
}

// Account, Region and Partition are moto's defaults.
const (
	Account   = "123456789012"
	Region    = "us-east-1"
	Partition = "aws"
)

// Removed is a resource left out of the stack moto creates.
type Removed struct {
	ID, Type, Reason string
	Properties       map[string]any
}

// Prepared is the template moto is given for one stack.
type Prepared struct {
	Template map[string]any // Resources hold only the types moto creates
	Body     []byte         // Template as JSON
	Removed  []Removed      // sorted by id
	// Replaced says, for each reference to a removed resource, where it
	// was and what placeholder took its place.
	Replaced []string
}

// Placeholder is what a reference to the removed resource id of type typ
// becomes: Ref gives attr "".
func Placeholder(stack, id, typ, attr string) string {
	if attr == "" && typ == "AWS::SecretsManager::Secret" { // Ref of a secret is its ARN
		return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s-%s-placeholder", Partition, Region, Account, stack, id)
	}
	if attr == "" {
		return "placeholder-" + stack + "-" + id
	}
	return fmt.Sprintf("arn:%s:placeholder:%s:%s:%s-%s/%s", Partition, Region, Account, stack, id, attr)
}

// Prepare takes the expanded template apart for moto: an error names any
// resource of a type Types does not list; the unsupported ones are removed
// and every reference to them (Ref, Fn::GetAtt, a ${} of Fn::Sub,
// DependsOn) replaced.
func Prepare(raw []byte, stack string) (*Prepared, error) {
	var tmpl map[string]any
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		return nil, err
	}
	if _, ok := tmpl["Transform"]; ok {
		return nil, fmt.Errorf("the template still has a Transform")
	}
	resources, _ := tmpl["Resources"].(map[string]any)
	p := &Prepared{Template: tmpl}
	removed := map[string]string{} // id -> type
	var unknown []string
	for id, r := range resources {
		typ, _ := r.(map[string]any)["Type"].(string)
		kind, ok := Types[typ]
		switch {
		case !ok:
			unknown = append(unknown, id+" ("+typ+")")
		case !kind.Moto:
			removed[id] = typ
			props, _ := r.(map[string]any)["Properties"].(map[string]any)
			p.Removed = append(p.Removed, Removed{ID: id, Type: typ, Reason: kind.Unsupported, Properties: props})
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("resource types neither supported nor listed as unsupported (deployrehearsal.Types): %s", strings.Join(unknown, ", "))
	}
	sort.Slice(p.Removed, func(i, j int) bool { return p.Removed[i].ID < p.Removed[j].ID })
	for id := range removed {
		delete(resources, id)
	}
	r := replacer{stack: stack, removed: removed}
	for id, res := range resources {
		m := res.(map[string]any)
		if deps, ok := m["DependsOn"]; ok {
			m["DependsOn"] = r.dependsOn(id, deps)
		}
		if props, ok := m["Properties"]; ok {
			m["Properties"] = r.walk(id+".Properties", props)
		}
	}
	if outputs, ok := tmpl["Outputs"]; ok {
		tmpl["Outputs"] = r.walk("Outputs", outputs)
	}
	sort.Strings(r.log)
	p.Replaced = r.log
	body, err := json.Marshal(tmpl)
	if err != nil {
		return nil, err
	}
	for id := range removed { // nothing may still point at a removed resource
		for _, form := range []string{`{"Ref":"` + id + `"}`, `["` + id + `",`, `"` + id + `.`, "${" + id + "}", "${" + id + "."} {
			if strings.Contains(string(body), form) {
				return nil, fmt.Errorf("a reference to the removed %s is left (%s)", id, form)
			}
		}
	}
	p.Body = body
	return p, nil
}

type replacer struct {
	stack   string
	removed map[string]string
	log     []string
}

func (r *replacer) placeholder(where, id, attr string) string {
	v := Placeholder(r.stack, id, r.removed[id], attr)
	ref := "Ref " + id
	if attr != "" {
		ref = "GetAtt " + id + "." + attr
	}
	r.log = append(r.log, fmt.Sprintf("%s: %s -> %s", where, ref, v))
	return v
}

func (r *replacer) dependsOn(id string, deps any) any {
	list, ok := deps.([]any)
	if !ok {
		list = []any{deps}
	}
	var kept []any
	for _, d := range list {
		if name, _ := d.(string); r.removed[name] != "" {
			r.log = append(r.log, fmt.Sprintf("%s.DependsOn: %s dropped", id, name))
			continue
		}
		kept = append(kept, d)
	}
	return kept
}

var subVar = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

func (r *replacer) walk(where string, v any) any {
	switch v := v.(type) {
	case []any:
		for i := range v {
			v[i] = r.walk(where+"["+strconv.Itoa(i)+"]", v[i])
		}
		return v
	case map[string]any:
		if len(v) == 1 {
			if id, ok := v["Ref"].(string); ok && r.removed[id] != "" {
				return r.placeholder(where, id, "")
			}
			if id, attr, _ := samtranslate.GetAttArgs(v["Fn::GetAtt"]); r.removed[id] != "" {
				return r.placeholder(where, id, attr)
			}
			if sub, ok := v["Fn::Sub"]; ok {
				return map[string]any{"Fn::Sub": r.sub(where, sub)}
			}
		}
		for k := range v {
			v[k] = r.walk(where+"."+k, v[k])
		}
		return v
	}
	return v
}

// sub replaces the ${id} and ${id.attr} of removed resources in a Fn::Sub
// (string, or [string, variables]).
func (r *replacer) sub(where string, sub any) any {
	s, vars, _ := samtranslate.SubArgs(sub)
	s = subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		if _, local := vars[name]; local {
			return m
		}
		id, attr, _ := strings.Cut(name, ".")
		if r.removed[id] == "" {
			return m
		}
		return r.placeholder(where, id, attr)
	})
	if list, ok := sub.([]any); ok && len(list) == 2 {
		return []any{s, r.walk(where, vars)}
	}
	return s
}

// UnnamedByStack lists the resources whose account-wide name (Types'
// NameProperty) does not carry ${AWS::StackName}, except those in allowed
// (logical id -> why): two stacks of the template in one account would
// fight over them.
func UnnamedByStack(raw []byte, allowed map[string]string) ([]string, error) {
	var tmpl struct {
		Resources map[string]struct {
			Type       string         `json:"Type"`
			Properties map[string]any `json:"Properties"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		return nil, err
	}
	var bad []string
	for id, r := range tmpl.Resources {
		kind, ok := Types[r.Type]
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: type %s not in deployrehearsal.Types", id, r.Type))
			continue
		}
		name, named := r.Properties[kind.NameProperty]
		if kind.NameProperty == "" || !named || allowed[id] != "" {
			continue
		}
		if !carriesStackName(name) {
			js, _ := json.Marshal(name)
			bad = append(bad, fmt.Sprintf("%s (%s) %s %s lacks ${AWS::StackName}", id, r.Type, kind.NameProperty, js))
		}
	}
	sort.Strings(bad)
	return bad, nil
}

func carriesStackName(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	if sub, ok := m["Fn::Sub"]; ok {
		s, _, _ := samtranslate.SubArgs(sub)
		return strings.Contains(s, "${AWS::StackName}")
	}
	if join, ok := m["Fn::Join"].([]any); ok && len(join) == 2 {
		parts, _ := join[1].([]any)
		for _, p := range parts {
			if ref, ok := p.(map[string]any); ok && ref["Ref"] == "AWS::StackName" {
				return true
			}
		}
	}
	return false
}
