package samtranslate

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestExamples(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string // each must be among the examples
		count   int      // exact number of examples; 0: not checked
	}{
		{"^[0-9]+(ms|s)$", []string{"0ms", "9s", "90s", "9000ms", "0000s", "99s"}, 0},
		{"^[1-9][0-9]{0,3}ms$", []string{"1ms", "9ms", "10ms", "9000ms", "99ms", "1999ms"}, 0},
		{"^[A-Z]{3}$", []string{"AAA", "ZZZ", "ZAA"}, 0},
		{"^[A-Za-z0-9-]{1,64}$", []string{"-", "z"}, 0},
		{`^https?://[^/\s]+$`, []string{"http://!", "https://~"}, 0},
		{"^(dev|prod)$", []string{"dev", "prod"}, 2},
		{"^(x)?$", []string{"", "x"}, 2},
		{"", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := Examples(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%q missing from %q", w, got)
				}
			}
			if tt.count > 0 && len(got) != tt.count {
				t.Errorf("%d examples %q, want %d", len(got), got, tt.count)
			}
		})
	}
	if _, err := Examples("^[0-9+$"); err == nil {
		t.Error("a pattern that does not parse gave examples")
	}
}

func TestEnvironment(t *testing.T) {
	tmpl := &Template{
		Parameters: map[string]Parameter{"Environment": {Default: "dev"}, "Limit": {Default: 100.0}},
		Conditions: map[string]json.RawMessage{
			"IsProd":  json.RawMessage(`{"Fn::Equals": [{"Ref": "Environment"}, "prod"]}`),
			"NotProd": json.RawMessage(`{"Fn::Not": [{"Condition": "IsProd"}]}`),
		},
		Resources: map[string]Resource{"Table": {Type: "AWS::DynamoDB::Table"}, "Secret": {Type: "AWS::SecretsManager::Secret"}},
	}
	fn := Function{LogicalID: "F", Variables: map[string]json.RawMessage{
		"PLAIN":   json.RawMessage(`"x"`),
		"NUM":     json.RawMessage(`5`),
		"LIMIT":   json.RawMessage(`{"Ref": "Limit"}`),
		"TABLE":   json.RawMessage(`{"Ref": "Table"}`),
		"SECRET":  json.RawMessage(`{"Ref": "Secret"}`),
		"ARN":     json.RawMessage(`{"Fn::GetAtt": ["Table", "Arn"]}`),
		"PREFIX":  json.RawMessage(`{"Fn::Sub": "app/${Environment}/${AWS::Region}/"}`),
		"SANDBOX": json.RawMessage(`{"Fn::If": ["IsProd", "false", "true"]}`),
		"OTHER":   json.RawMessage(`{"Fn::If": ["NotProd", {"Fn::Join": ["-", ["a", {"Ref": "Environment"}]]}, "p"]}`),
	}}
	local := func(id string) (string, bool) { return "pre-" + id, id == "Table" }
	tests := []struct {
		name    string
		params  map[string]string
		want    map[string]string
		leftOut []string
	}{
		{"defaults", nil, map[string]string{"PLAIN": "x", "NUM": "5", "LIMIT": "100", "TABLE": "pre-Table",
			"PREFIX": "app/dev/us-east-1/", "SANDBOX": "true", "OTHER": "a-dev"}, []string{"ARN", "SECRET"}},
		{"prod", map[string]string{"Environment": "prod", "Limit": "7"}, map[string]string{"PLAIN": "x", "NUM": "5", "LIMIT": "7",
			"TABLE": "pre-Table", "PREFIX": "app/prod/us-east-1/", "SANDBOX": "false", "OTHER": "p"}, []string{"ARN", "SECRET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, leftOut, err := tmpl.Environment(fn, Locals{Parameters: tt.params, Resource: local})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if !slices.Equal(leftOut, tt.leftOut) {
				t.Errorf("left out %v, want %v", leftOut, tt.leftOut)
			}
		})
	}
	if _, _, err := tmpl.Environment(fn, Locals{Parameters: map[string]string{"Nope": "1"}}); err == nil {
		t.Error("a value for a parameter the template lacks was accepted")
	}
	bad := Function{LogicalID: "F", Variables: map[string]json.RawMessage{"X": json.RawMessage(`{"Fn::Base64": "x"}`)}}
	if _, _, err := tmpl.Environment(bad, Locals{}); err == nil || errors.Is(err, ErrLeftOut) {
		t.Errorf("an unsupported intrinsic: %v, want an error", err)
	}
}

func TestParameterValues(t *testing.T) {
	tests := []struct {
		name string
		p    Parameter
		want []string
	}{
		{"allowed values", Parameter{Type: "String", Default: "dev", AllowedValues: []any{"dev", "prod"}}, []string{"dev", "prod"}},
		{"pattern and default", Parameter{Type: "String", Default: "5s", AllowedPattern: "^[1-9](ms|s)$"}, []string{"1ms", "1s", "5s", "9ms", "9s"}},
		{"number", Parameter{Type: "Number", Default: 100.0, MinValue: 1.0}, []string{"1", "100", "1000000"}},
		{"bounded number", Parameter{Type: "Number", Default: 10.0, MinValue: 1.0, MaxValue: 20.0}, []string{"1", "10", "20"}},
		{"empty default", Parameter{Type: "String", Default: ""}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.Values()
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
