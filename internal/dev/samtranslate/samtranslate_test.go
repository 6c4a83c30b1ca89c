package samtranslate_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
)

// The project's template expands: every SAM function becomes a Lambda
// function with a role, and the HTTP API one API with its routes.
func TestLoadProjectTemplate(t *testing.T) {
	samtranslate.Require(t)
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtranslate.Load(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	fns := tmpl.OfType("AWS::Lambda::Function")
	if len(fns) != len(raw.Functions) {
		t.Fatalf("%d Lambda functions expanded, the template has %d", len(fns), len(raw.Functions))
	}
	for _, id := range fns {
		var props struct {
			Role map[string][]string `json:"Role"`
		}
		if err := json.Unmarshal(tmpl.Resources[id].Properties, &props); err != nil {
			t.Fatal(err)
		}
		role := props.Role["Fn::GetAtt"]
		if len(role) != 2 || tmpl.Resources[role[0]].Type != "AWS::IAM::Role" {
			t.Errorf("%s: role %v is not a role of the template", id, props.Role)
		}
	}
	if apis := tmpl.OfType("AWS::ApiGatewayV2::Api"); len(apis) != 1 {
		t.Errorf("HTTP APIs: %v, want one", apis)
	}
}
