package iampolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
)

// The fixed account, region and stack of local runs: every ARN a local
// stack's functions are checked against is formed from them.
const (
	LocalAccount   = "123456789012"
	LocalRegion    = "us-east-1"
	LocalPartition = "aws"
	LocalStack     = "tollgate-dev" // samconfig.toml's stack_name
	// physicalSuffix stands for the random part CloudFormation appends to
	// generated names (roles, queues, functions).
	physicalSuffix = "LOCAL1234567"
	// SecretSuffix stands for the six random characters (after a dash)
	// Secrets Manager appends to a secret's name in its ARN.
	SecretSuffix = "-Lc4lAb"
	// streamLabel stands for a table stream's creation time in its ARN.
	streamLabel = "2026-01-01T00:00:00.000"
)

// Locals says how the template's resources are named locally.
type Locals struct {
	// TableName gives a table's local name from its logical id (the
	// stack's TablePrefix + id), so table ARNs name the tables the local
	// stack really uses.
	TableName func(logicalID string) string
	// Params are parameter values; absent ones take their defaults.
	Params map[string]string
}

// Role is a Lambda function's execution role as deployed.
type Role struct {
	Function string // the function's logical id
	Name     string // the role's physical name
	ARN      string
	// Caller is the ARN the function's calls are made as (the assumed
	// role's session), as AWS names it in an AccessDenied message.
	Caller   string
	Policies []Policy
	// Env is the function's environment as deployed, intrinsics resolved.
	Env map[string]string
}

// Roles reads the role of every AWS::Lambda::Function of an expanded
// template: the role its Role names, with its inline policies and managed
// policies, every intrinsic resolved to the concrete ARNs of l.
func Roles(t *samtranslate.Template, l Locals) (map[string]*Role, error) {
	r, err := newResolver(t, l)
	if err != nil {
		return nil, err
	}
	out := map[string]*Role{}
	for _, id := range t.OfType("AWS::Lambda::Function") {
		role, err := r.role(id)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", id, err)
		}
		out[id] = role
	}
	return out, nil
}

type resolver struct {
	t     *samtranslate.Template
	l     Locals
	props map[string]map[string]any // resource properties, decoded
	ev    *samtranslate.Evaluator
}

func newResolver(t *samtranslate.Template, l Locals) (*resolver, error) {
	r := &resolver{t: t, l: l, props: map[string]map[string]any{}}
	if r.l.TableName == nil {
		r.l.TableName = func(id string) string { return id }
	}
	ev, err := t.Evaluator(l.Params, samtranslate.Pseudo(LocalRegion, LocalAccount, LocalPartition, LocalStack))
	if err != nil {
		return nil, err
	}
	ev.Ref, ev.GetAtt = r.ref, r.getAtt
	r.ev = ev
	for id, res := range t.Resources {
		var p map[string]any
		if len(res.Properties) > 0 {
			if err := json.Unmarshal(res.Properties, &p); err != nil {
				return nil, fmt.Errorf("resource %s: %w", id, err)
			}
		}
		r.props[id] = p
	}
	return r, nil
}

func (r *resolver) role(fnID string) (*Role, error) {
	fn := r.props[fnID]
	ref, ok := fn["Role"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("role %v is not a Fn::GetAtt of the template's role", fn["Role"])
	}
	roleID, _, ok := samtranslate.GetAttArgs(ref["Fn::GetAtt"])
	if !ok {
		return nil, fmt.Errorf("role %v is not a Fn::GetAtt of the template's role", ref)
	}
	if r.t.Resources[roleID].Type != "AWS::IAM::Role" {
		return nil, fmt.Errorf("role %s is not an AWS::IAM::Role of the template", roleID)
	}
	name := r.physical(roleID)
	role := &Role{
		Function: fnID,
		Name:     name,
		ARN:      fmt.Sprintf("arn:%s:iam::%s:role/%s", LocalPartition, LocalAccount, name),
		Caller:   fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", LocalPartition, LocalAccount, name, r.physical(fnID)),
		Env:      map[string]string{},
	}
	props := r.props[roleID]
	inline, _ := props["Policies"].([]any)
	for i, p := range inline {
		pm, _ := p.(map[string]any)
		doc, err := r.ev.Eval(pm["PolicyDocument"])
		if err != nil {
			return nil, fmt.Errorf("role %s policy %d: %w", roleID, i, err)
		}
		sts, err := ParseStatements(doc)
		if err != nil {
			return nil, fmt.Errorf("role %s policy %v: %w", roleID, pm["PolicyName"], err)
		}
		role.Policies = append(role.Policies, Policy{Name: fmt.Sprint(pm["PolicyName"]), Statements: sts})
	}
	managed, _ := props["ManagedPolicyArns"].([]any)
	for _, m := range managed {
		v, err := r.ev.Eval(m)
		if err != nil {
			return nil, fmt.Errorf("role %s managed policy: %w", roleID, err)
		}
		arn, _ := v.(string)
		sts, ok := managedPolicies[arn]
		if !ok {
			return nil, fmt.Errorf("role %s: managed policy %v is unknown to this evaluator (add its document to managedPolicies)", roleID, v)
		}
		role.Policies = append(role.Policies, Policy{Name: arn, Statements: sts})
	}
	if env, ok := fn["Environment"].(map[string]any); ok {
		vars, _ := env["Variables"].(map[string]any)
		for k, v := range vars {
			rv, err := r.ev.Eval(v)
			if err == nil {
				role.Env[k], err = samtranslate.String(rv)
			}
			if err != nil {
				return nil, fmt.Errorf("environment %s: %w", k, err)
			}
		}
	}
	return role, nil
}

// managedPolicies are the documents of the AWS managed policies SAM
// attaches (AWS publishes them; IAM console, "AWS managed").
var managedPolicies = map[string][]Statement{
	"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {{
		Effect:   "Allow",
		Action:   []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
		Resource: []string{"*"},
	}},
	// SAM attaches it when Tracing is set (the Tracing parameter): Lambda's
	// X-Ray daemon sends the function's segments with it.
	"arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": {{
		Effect: "Allow",
		Action: []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
			"xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"},
		Resource: []string{"*"},
	}},
}

// physical is the name CloudFormation generates for a resource without a
// name of its own: stack-logicalId-suffix, at most 64 characters.
func (r *resolver) physical(id string) string {
	n := LocalStack + "-" + id
	if len(n) > 64-len(physicalSuffix)-1 {
		n = n[:64-len(physicalSuffix)-1]
	}
	return n + "-" + physicalSuffix
}

// ref is a resource's Ref for the local stack.
func (r *resolver) ref(name string) (any, error) {
	res, ok := r.t.Resources[name]
	if !ok {
		return nil, errors.New("no such parameter or resource")
	}
	switch res.Type {
	case "AWS::DynamoDB::Table":
		return r.l.TableName(name), nil
	case "AWS::SecretsManager::Secret":
		// Ref gives the secret's ARN.
		return r.secretARN(name)
	case "AWS::SQS::Queue":
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", LocalRegion, LocalAccount, r.physical(name)), nil
	case "AWS::IAM::Role", "AWS::Lambda::Function":
		return r.physical(name), nil
	case "AWS::ApiGatewayV2::Api":
		// Ref gives the API's id (the dispatcher's order links name its
		// domain; the local run overrides the variable with its own URL).
		return "localapi", nil
	}
	return nil, fmt.Errorf("resources of type %s are not resolved locally", res.Type)
}

// secretARN is a secret's ARN: its name and Secrets Manager's suffix.
func (r *resolver) secretARN(id string) (string, error) {
	name := any(r.physical(id))
	if n, ok := r.props[id]["Name"]; ok {
		var err error
		if name, err = r.ev.Eval(n); err != nil {
			return "", fmt.Errorf("secret %s name: %w", id, err)
		}
	}
	return SecretARN(fmt.Sprint(name)), nil
}

// SecretARN is the ARN of the local stack's secret called name.
func SecretARN(name string) string {
	return fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s%s", LocalPartition, LocalRegion, LocalAccount, name, SecretSuffix)
}

// getAtt is a resource attribute for the local stack.
func (r *resolver) getAtt(id, attr string) (any, error) {
	res, ok := r.t.Resources[id]
	if !ok {
		return nil, errors.New("no such resource")
	}
	switch res.Type + "." + attr {
	case "AWS::DynamoDB::Table.Arn":
		return TableARN(r.l.TableName(id)), nil
	case "AWS::DynamoDB::Table.StreamArn":
		return TableARN(r.l.TableName(id)) + "/stream/" + streamLabel, nil
	case "AWS::SQS::Queue.Arn":
		return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", LocalPartition, LocalRegion, LocalAccount, r.physical(id)), nil
	case "AWS::IAM::Role.Arn":
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", LocalPartition, LocalAccount, r.physical(id)), nil
	case "AWS::Lambda::Function.Arn":
		return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", LocalPartition, LocalRegion, LocalAccount, r.physical(id)), nil
	}
	return nil, fmt.Errorf("attribute %s of a %s is not resolved locally", attr, res.Type)
}

// TableARN is the ARN of the local stack's table called name.
func TableARN(name string) string {
	return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", LocalPartition, LocalRegion, LocalAccount, name)
}

// Permission is one grant of a role, described.
type Permission struct {
	Function string
	Grant    Grant
	Sid      string
	Action   string // the Action pattern, or "NotAction [...]"
	Resource string // the Resource pattern, or "NotResource [...]"
}

func (p Permission) String() string {
	sid := p.Sid
	if sid != "" {
		sid = " (" + sid + ")"
	}
	return fmt.Sprintf("%s: %s on %s%s", p.Function, p.Action, p.Resource, sid)
}

// Permissions lists every Allow grant of the roles, by function.
func Permissions(roles map[string]*Role) []Permission {
	var out []Permission
	for fn, role := range roles {
		for pi, p := range role.Policies {
			for si, s := range p.Statements {
				if s.Effect != "Allow" {
					continue
				}
				acts, res := s.Action, s.Resource
				actIdx, resIdx := indexes(len(acts)), indexes(len(res))
				if s.NotAction != nil {
					acts, actIdx = []string{"NotAction " + strings.Join(s.NotAction, ",")}, []int{-1}
				}
				if s.NotResource != nil {
					res, resIdx = []string{"NotResource " + strings.Join(s.NotResource, ",")}, []int{-1}
				}
				for ai, a := range acts {
					for ri, rr := range res {
						out = append(out, Permission{Function: fn, Grant: Grant{pi, si, actIdx[ai], resIdx[ri]}, Sid: s.Sid, Action: a, Resource: rr})
					}
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
