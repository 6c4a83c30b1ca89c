// Package samtemplate reads what the local tools need from template.yaml: the
// functions with their HTTP routes and environment, and the DynamoDB tables
// with their keys. The local runner builds its routes and tables from it, so
// local and deployed routing cannot drift.
package samtemplate

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

// Template is the subset of a SAM template Tollgate's tools use.
type Template struct {
	Functions  map[string]Function // by logical id
	Tables     map[string]Table    // by logical id
	Parameters map[string]string   // parameter defaults
}

// Function is one AWS::Serverless::Function.
type Function struct {
	LogicalID   string
	CodeURI     string
	BuildMethod string
	Routes      []Route
	Schedules   []string // schedule expressions of Schedule / ScheduleV2 events
	// Streams are the tables (logical ids) whose DynamoDB streams feed the
	// function (AWS::Lambda::EventSourceMapping resources naming it).
	Streams []string
	// Env is the function's environment (Globals merged with its own) with
	// references resolved for a local run: !Ref to a table gives the table's
	// logical id (the local table name), !Ref to a parameter its default.
	// Variables referring to anything else (the secret) are left out.
	Env map[string]string
	// TableEnv maps the variables that name a table to the table's logical id.
	TableEnv map[string]string
	// PolicyTables are the tables (logical ids, sorted) its IAM policies
	// name: as a resource (!GetAtt T.Arn, !Sub "${T.Arn}/index/*") or by
	// !Ref.
	PolicyTables []string
	// MemorySize is the function's memory in MB: its own MemorySize, else
	// Globals', else Lambda's default (DefaultMemorySize).
	MemorySize int
	// Timeout is the function's Lambda timeout: its own, else Globals', else
	// Lambda's default (DefaultTimeout).
	Timeout time.Duration
}

// DefaultTimeout is the timeout Lambda gives a function whose template sets
// none.
const DefaultTimeout = 3 * time.Second

// DefaultMemorySize is the memory (MB) Lambda gives a function whose
// template sets none.
const DefaultMemorySize = 128

// Route is one HttpApi event.
type Route struct {
	Method string
	Path   string // API Gateway syntax: /purchase/{playerId}
}

// ClientPath is the path clients call the route by: a trailing-slash
// route's greedy variable (/market/{slash+}, see
// lambdarun.TrailingSlashParam) stands for the slash itself ("/market/").
func (r Route) ClientPath() string {
	if p, ok := strings.CutSuffix(r.Path, "/{"+lambdarun.TrailingSlashParam+"+}"); ok {
		return p + "/"
	}
	return r.Path
}

// Table is one AWS::DynamoDB::Table.
type Table struct {
	LogicalID            string
	AttributeDefinitions []AttributeDefinition
	KeySchema            []KeyElement
	GlobalIndexes        []Index
	TTLAttribute         string
}

// AttributeDefinition is a key attribute and its type (S, N or B).
type AttributeDefinition struct{ Name, Type string }

// KeyElement is a key attribute and its role (HASH or RANGE).
type KeyElement struct{ Name, KeyType string }

// Index is a global secondary index (projection ALL).
type Index struct {
	Name      string
	KeySchema []KeyElement
}

// Load parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

type rawTemplate struct {
	Parameters map[string]struct {
		Default yaml.Node `yaml:"Default"`
	} `yaml:"Parameters"`
	Globals struct {
		Function struct {
			MemorySize  yaml.Node `yaml:"MemorySize"`
			Timeout     yaml.Node `yaml:"Timeout"`
			Environment struct {
				Variables map[string]yaml.Node `yaml:"Variables"`
			} `yaml:"Environment"`
		} `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]struct {
		Type     string `yaml:"Type"`
		Metadata struct {
			BuildMethod string `yaml:"BuildMethod"`
		} `yaml:"Metadata"`
		Properties yaml.Node `yaml:"Properties"`
	} `yaml:"Resources"`
}

type rawFunction struct {
	Policies    yaml.Node `yaml:"Policies"`
	CodeURI     string    `yaml:"CodeUri"`
	MemorySize  yaml.Node `yaml:"MemorySize"`
	Timeout     yaml.Node `yaml:"Timeout"`
	Environment struct {
		Variables map[string]yaml.Node `yaml:"Variables"`
	} `yaml:"Environment"`
	Events map[string]struct {
		Type       string `yaml:"Type"`
		Properties struct {
			Path     string `yaml:"Path"`
			Method   string `yaml:"Method"`
			Schedule string `yaml:"Schedule"`
			Expr     string `yaml:"ScheduleExpression"`
		} `yaml:"Properties"`
	} `yaml:"Events"`
}

type rawTable struct {
	AttributeDefinitions []struct {
		AttributeName string `yaml:"AttributeName"`
		AttributeType string `yaml:"AttributeType"`
	} `yaml:"AttributeDefinitions"`
	KeySchema              []rawKey `yaml:"KeySchema"`
	GlobalSecondaryIndexes []struct {
		IndexName string   `yaml:"IndexName"`
		KeySchema []rawKey `yaml:"KeySchema"`
	} `yaml:"GlobalSecondaryIndexes"`
	TimeToLiveSpecification struct {
		AttributeName string `yaml:"AttributeName"`
	} `yaml:"TimeToLiveSpecification"`
}

type rawKey struct {
	AttributeName string `yaml:"AttributeName"`
	KeyType       string `yaml:"KeyType"`
}

// Parse parses template text.
func Parse(data []byte) (*Template, error) {
	var raw rawTemplate
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	t := &Template{Functions: map[string]Function{}, Tables: map[string]Table{}, Parameters: map[string]string{}}
	for name, p := range raw.Parameters {
		t.Parameters[name] = p.Default.Value
	}
	for id, res := range raw.Resources {
		if res.Type != "AWS::DynamoDB::Table" {
			continue
		}
		var rt rawTable
		if err := res.Properties.Decode(&rt); err != nil {
			return nil, fmt.Errorf("table %s: %w", id, err)
		}
		tab := Table{LogicalID: id, TTLAttribute: rt.TimeToLiveSpecification.AttributeName}
		for _, a := range rt.AttributeDefinitions {
			tab.AttributeDefinitions = append(tab.AttributeDefinitions, AttributeDefinition{a.AttributeName, a.AttributeType})
		}
		tab.KeySchema = keys(rt.KeySchema)
		for _, g := range rt.GlobalSecondaryIndexes {
			tab.GlobalIndexes = append(tab.GlobalIndexes, Index{Name: g.IndexName, KeySchema: keys(g.KeySchema)})
		}
		t.Tables[id] = tab
	}
	for id, res := range raw.Resources {
		if res.Type != "AWS::Serverless::Function" {
			continue
		}
		var rf rawFunction
		if err := res.Properties.Decode(&rf); err != nil {
			return nil, fmt.Errorf("function %s: %w", id, err)
		}
		fn := Function{LogicalID: id, CodeURI: rf.CodeURI, BuildMethod: res.Metadata.BuildMethod, Env: map[string]string{}, TableEnv: map[string]string{}}
		mem, err := t.memorySize(rf.MemorySize, raw.Globals.Function.MemorySize)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", id, err)
		}
		fn.MemorySize = mem
		secs, err := t.number(rf.Timeout, raw.Globals.Function.Timeout, int(DefaultTimeout/time.Second), "Timeout", "s")
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", id, err)
		}
		fn.Timeout = time.Duration(secs) * time.Second
		fn.PolicyTables = t.tablesNamed(&rf.Policies)
		for _, vars := range []map[string]yaml.Node{raw.Globals.Function.Environment.Variables, rf.Environment.Variables} {
			for k, n := range vars {
				delete(fn.Env, k)
				delete(fn.TableEnv, k)
				if _, isTable := t.Tables[n.Value]; isTable && n.Tag == "!Ref" {
					fn.TableEnv[k] = n.Value
				}
				if v, ok := t.resolve(n); ok {
					fn.Env[k] = v
				}
			}
		}
		evNames := make([]string, 0, len(rf.Events))
		for name := range rf.Events {
			evNames = append(evNames, name)
		}
		sort.Strings(evNames)
		for _, name := range evNames {
			ev := rf.Events[name]
			switch ev.Type {
			case "HttpApi":
				fn.Routes = append(fn.Routes, Route{Method: strings.ToUpper(ev.Properties.Method), Path: ev.Properties.Path})
			case "Schedule":
				fn.Schedules = append(fn.Schedules, ev.Properties.Schedule)
			case "ScheduleV2":
				fn.Schedules = append(fn.Schedules, ev.Properties.Expr)
			}
		}
		t.Functions[id] = fn
	}
	for id, res := range raw.Resources {
		if res.Type != "AWS::Lambda::EventSourceMapping" {
			continue
		}
		var m struct {
			FunctionName   yaml.Node `yaml:"FunctionName"`
			EventSourceArn yaml.Node `yaml:"EventSourceArn"`
		}
		if err := res.Properties.Decode(&m); err != nil {
			return nil, fmt.Errorf("event source mapping %s: %w", id, err)
		}
		fnID := strings.SplitN(m.FunctionName.Value, ".", 2)[0] // !Ref F or !GetAtt F.Arn
		table, attr, _ := strings.Cut(m.EventSourceArn.Value, ".")
		fn, ok := t.Functions[fnID]
		if _, isTable := t.Tables[table]; !ok || !isTable || m.EventSourceArn.Tag != "!GetAtt" || attr != "StreamArn" {
			return nil, fmt.Errorf("event source mapping %s: want FunctionName a function of the template and EventSourceArn !GetAtt <table>.StreamArn", id)
		}
		fn.Streams = append(fn.Streams, table)
		t.Functions[fnID] = fn
	}
	return t, nil
}

func keys(raw []rawKey) []KeyElement {
	out := make([]KeyElement, 0, len(raw))
	for _, k := range raw {
		out = append(out, KeyElement{k.AttributeName, k.KeyType})
	}
	return out
}

// resolve gives the local value of an environment variable's node.
func (t *Template) resolve(n yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	switch n.Tag {
	case "!Ref":
		if _, ok := t.Tables[n.Value]; ok {
			return n.Value, true
		}
		if v, ok := t.Parameters[n.Value]; ok {
			return v, true
		}
		return "", false
	case "!Sub", "!GetAtt", "!ImportValue":
		return "", false
	}
	return n.Value, true
}

// memorySize resolves a function's MemorySize: its own node if set, else
// Globals', else DefaultMemorySize. A value that does not resolve to a
// positive number of MB is an error rather than a guess, so the local tools
// never run a function with memory the deployed one does not have.
func (t *Template) memorySize(own, global yaml.Node) (int, error) {
	return t.number(own, global, DefaultMemorySize, "MemorySize", "MB")
}

// number resolves a function's numeric property: its own node if set, else
// Globals', else def.
func (t *Template) number(own, global yaml.Node, def int, property, unit string) (int, error) {
	n := own
	if n.Kind == 0 {
		n = global
	}
	if n.Kind == 0 {
		return def, nil
	}
	v, ok := t.resolve(n)
	if !ok {
		return 0, fmt.Errorf("%s at line %d is neither a number nor a !Ref to a parameter with a default", property, n.Line)
	}
	x, err := strconv.Atoi(v)
	if err != nil || x <= 0 {
		return 0, fmt.Errorf("%s %q is not a positive number of %s", property, v, unit)
	}
	return x, nil
}

// subRefRE finds the references of a !Sub string: ${T} or ${T.Attribute}.
var subRefRE = regexp.MustCompile(`\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9]+)?\}`)

// tablesNamed returns the tables of t that the intrinsic functions under n
// name (!GetAtt T.Arn, !Ref T, ${T...} in a !Sub), sorted.
func (t *Template) tablesNamed(n *yaml.Node) []string {
	seen := map[string]bool{}
	add := func(id string) {
		if _, ok := t.Tables[id]; ok {
			seen[id] = true
		}
	}
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			switch n.Tag {
			case "!GetAtt":
				id, _, _ := strings.Cut(n.Value, ".")
				add(id)
			case "!Ref":
				add(n.Value)
			case "!Sub":
				for _, m := range subRefRE.FindAllStringSubmatch(n.Value, -1) {
					add(m[1])
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// FunctionIDs returns the functions' logical ids, sorted.
func (t *Template) FunctionIDs() []string {
	ids := make([]string, 0, len(t.Functions))
	for id := range t.Functions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Find walks up from the working directory to the nearest template.yaml, so
// tools and tests run from any package find the project's template.
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "template.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("template.yaml not found above the working directory")
		}
		dir = parent
	}
}

// Root is the project's root directory: the one holding template.yaml
// (and go.mod), found as Find does.
func Root() (string, error) {
	p, err := Find()
	if err != nil {
		return "", err
	}
	return filepath.Dir(p), nil
}

// Rate parses a schedule expression of the form rate(N unit) (minute(s),
// hour(s), day(s)).
func Rate(expr string) (time.Duration, error) {
	var n int
	var unit string
	if _, err := fmt.Sscanf(strings.TrimSpace(expr), "rate(%d %s", &n, &unit); err != nil || n < 1 {
		return 0, fmt.Errorf("schedule %q: only rate(N unit) is supported locally", expr)
	}
	switch strings.TrimSuffix(strings.TrimSuffix(unit, ")"), "s") {
	case "minute":
		return time.Duration(n) * time.Minute, nil
	case "hour":
		return time.Duration(n) * time.Hour, nil
	case "day":
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("schedule %q: unknown unit", expr)
}
