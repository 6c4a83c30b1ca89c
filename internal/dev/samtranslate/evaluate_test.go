package samtranslate

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The evaluator's known answers: every intrinsic and condition function,
// with the stack's parts (resources' Ref and GetAtt, parameters, pseudo
// parameters) given as the three callers give them.
func TestEvaluator(t *testing.T) {
	var conditions map[string]any
	if err := json.Unmarshal([]byte(`{
		"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
		"NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
		"Both": {"Fn::And": [{"Condition": "NotProd"}, {"Fn::Equals": [{"Ref": "Limit"}, 100]}]},
		"Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Fn::Equals": ["a", "b"]}]},
		"Broken": {"Fn::Equals": ["a"]}
	}`), &conditions); err != nil {
		t.Fatal(err)
	}
	left := errors.New("left out")
	e := &Evaluator{
		Params:     map[string]string{"Env": "dev", "Limit": "100"},
		Pseudo:     Pseudo("eu-west-1", "111122223333", "aws", "stack"),
		Conditions: conditions,
		Ref: func(id string) (any, error) {
			if id == "Table" {
				return "stack-Table", nil
			}
			return nil, left
		},
		GetAtt: func(id, attr string) (any, error) {
			if id == "Table" && attr == "Arn" {
				return "arn:table/stack-Table", nil
			}
			return nil, fmt.Errorf("no attribute %s of %s", attr, id)
		},
	}
	tests := []struct {
		in   string
		want any    // the value, when err is ""
		err  string // a part of the error
	}{
		{`"plain"`, "plain", ""},
		{`5`, 5.0, ""},
		{`{"Ref": "Env"}`, "dev", ""},
		{`{"Ref": "AWS::Region"}`, "eu-west-1", ""},
		{`{"Ref": "AWS::AccountId"}`, "111122223333", ""},
		{`{"Ref": "AWS::Partition"}`, "aws", ""},
		{`{"Ref": "AWS::StackName"}`, "stack", ""},
		{`{"Ref": "AWS::URLSuffix"}`, "amazonaws.com", ""},
		{`{"Ref": "Table"}`, "stack-Table", ""},
		{`{"Ref": "Other"}`, nil, "a Ref to Other: left out"},
		{`{"Ref": "AWS::Nope"}`, nil, "a Ref to AWS::Nope"},
		{`{"Ref": ["Table"]}`, nil, "a Ref to [Table]"},
		{`{"A": {"Ref": "AWS::NoValue"}, "B": ["x", {"Ref": "AWS::NoValue"}]}`, map[string]any{"B": []any{"x"}}, ""},
		{`{"Fn::GetAtt": ["Table", "Arn"]}`, "arn:table/stack-Table", ""},
		{`{"Fn::GetAtt": "Table.Arn"}`, "arn:table/stack-Table", ""},
		{`{"Fn::GetAtt": ["Table", "StreamArn"]}`, nil, "Fn::GetAtt Table.StreamArn: no attribute"},
		{`{"Fn::GetAtt": ["Table"]}`, nil, "Fn::GetAtt [Table]"},
		{`{"Fn::Sub": "${AWS::Region}/${Env}/${Table}/${Table.Arn}/${!Literal}"}`, "eu-west-1/dev/stack-Table/arn:table/stack-Table/${Literal}", ""},
		{`{"Fn::Sub": ["${A}-${Env}", {"A": {"Ref": "Limit"}, "Unused": {"Ref": "Other"}}]}`, "100-dev", ""},
		{`{"Fn::Sub": "a/${Other}"}`, nil, `Fn::Sub "a/${Other}" ${Other}: a Ref to Other`},
		{`{"Fn::Sub": "a/${Table.Name}"}`, nil, "${Table.Name}: Fn::GetAtt Table.Name"},
		{`{"Fn::Sub": "a/${Env"}`, nil, "not closed"},
		{`{"Fn::Sub": ["x"]}`, nil, "Fn::Sub [x]"},
		{`{"Fn::Join": [":", ["a", {"Ref": "Env"}, {"Ref": "AWS::NoValue"}, 7]]}`, "a:dev:7", ""},
		{`{"Fn::Join": [":", [["nested"]]]}`, nil, "Fn::Join [0]"},
		{`{"Fn::Join": [":"]}`, nil, "Fn::Join"},
		{`{"Fn::Select": [1, ["a", {"Ref": "Env"}]]}`, "dev", ""},
		{`{"Fn::Select": ["2", ["a"]]}`, nil, "Fn::Select index 2"},
		{`{"Fn::If": ["IsProd", "p", {"Ref": "Env"}]}`, "dev", ""},
		{`{"Fn::If": ["NotProd", "np", "p"]}`, "np", ""},
		{`{"Fn::If": ["Both", "both", "no"]}`, "both", ""},
		{`{"Fn::If": ["Either", "either", "neither"]}`, "neither", ""},
		{`{"Fn::If": ["Nope", "a", "b"]}`, nil, "condition Nope is not in the template"},
		{`{"Fn::If": ["Broken", "a", "b"]}`, nil, "condition Broken: Fn::Equals"},
		{`{"Fn::If": ["IsProd", "a"]}`, nil, "Fn::If"},
		{`{"Fn::Equals": [{"Ref": "Env"}, "dev"]}`, true, ""},
		{`{"Fn::Not": [{"Fn::Equals": ["a", "a"]}]}`, false, ""},
		{`{"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "NotProd"}]}`, true, ""},
		{`{"Fn::Not": [{"Fn::Base64": "x"}]}`, nil, "condition function Fn::Base64 is not supported"},
		{`{"Fn::Base64": "x"}`, nil, "intrinsic Fn::Base64 is not supported"},
		{`{"Props": [{"Fn::ImportValue": "x"}]}`, nil, "Props: [0]: intrinsic Fn::ImportValue"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tt.in), &v); err != nil {
				t.Fatal(err)
			}
			got, err := e.Eval(v)
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want one with %q", err, tt.err)
			case tt.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.err == "" && !reflect.DeepEqual(got, tt.want):
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	if _, err := e.Eval(map[string]any{"Ref": "Other"}); !errors.Is(err, left) {
		t.Errorf("the caller's error is not wrapped: %v", err)
	}
}

func TestString(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
	}{{"x", "x"}, {100.0, "100"}, {1.5, "1.5"}, {true, "true"}, {NoValue, ""}} {
		if got, err := String(tt.in); err != nil || got != tt.want {
			t.Errorf("String(%v) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []any{nil, []any{"a"}, map[string]any{}} {
		if _, err := String(in); err == nil {
			t.Errorf("String(%v) gave no error", in)
		}
	}
}
