package deployrehearsal_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/deployrehearsal"
)

// A resource of a type the rehearsal does not classify fails it.
func TestPrepareRefusesUnknownType(t *testing.T) {
	_, err := deployrehearsal.Prepare([]byte(`{"Resources": {"Bus": {"Type": "AWS::Events::EventBus"}}}`), "s")
	if err == nil || !strings.Contains(err.Error(), "Bus (AWS::Events::EventBus)") {
		t.Fatalf("err = %v", err)
	}
}

// Unsupported resources go, and every reference to them becomes a named
// placeholder: Ref, Fn::GetAtt, ${} in Fn::Sub (not a variable of its own),
// DependsOn, Outputs.
func TestPrepareReplacesReferences(t *testing.T) {
	p, err := deployrehearsal.Prepare([]byte(`{
	"Resources": {
		"Keys": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "k"}},
		"Api": {"Type": "AWS::ApiGatewayV2::Api"},
		"Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["Keys", "Role"], "Properties": {
			"Environment": {"Variables": {"SECRET_ID": {"Ref": "Keys"}, "API": {"Fn::GetAtt": ["Api", "ApiEndpoint"]}}}}},
		"Role": {"Type": "AWS::IAM::Role"},
		"Perm": {"Type": "AWS::Lambda::Permission", "Properties": {"SourceArn": {"Fn::Sub": [
			"arn:${AWS::Partition}:execute-api:${Api}:${__ApiId__}/${Keys.Arn}", {"__ApiId__": {"Ref": "Api"}}]}}}
	},
	"Outputs": {"Url": {"Value": {"Fn::Sub": "https://${Api}.example/"}}}}`), "st")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Removed) != 2 || p.Removed[0].ID != "Api" || p.Removed[1].ID != "Keys" || p.Removed[0].Reason == "" {
		t.Errorf("removed %+v", p.Removed)
	}
	var got map[string]any
	if err := json.Unmarshal(p.Body, &got); err != nil {
		t.Fatal(err)
	}
	res := got["Resources"].(map[string]any)
	if _, ok := res["Keys"]; ok {
		t.Error("Keys still in the template")
	}
	fn := res["Fn"].(map[string]any)
	vars := fn["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
	if vars["SECRET_ID"] != "arn:aws:secretsmanager:us-east-1:123456789012:secret:st-Keys-placeholder" ||
		vars["API"] != "arn:aws:placeholder:us-east-1:123456789012:st-Api/ApiEndpoint" {
		t.Errorf("variables %v", vars)
	}
	if deps, _ := json.Marshal(fn["DependsOn"]); string(deps) != `["Role"]` {
		t.Errorf("DependsOn %s", deps)
	}
	sub, _ := json.Marshal(res["Perm"].(map[string]any)["Properties"].(map[string]any)["SourceArn"])
	if want := `{"Fn::Sub":["arn:${AWS::Partition}:execute-api:placeholder-st-Api:${__ApiId__}/arn:aws:placeholder:us-east-1:123456789012:st-Keys/Arn",{"__ApiId__":"placeholder-st-Api"}]}`; string(sub) != want {
		t.Errorf("SourceArn %s\nwant      %s", sub, want)
	}
	if url, _ := json.Marshal(got["Outputs"]); !strings.Contains(string(url), "https://placeholder-st-Api.example/") {
		t.Errorf("Outputs %s", url)
	}
	if len(p.Replaced) != 7 {
		t.Errorf("replaced %d:\n%s", len(p.Replaced), strings.Join(p.Replaced, "\n"))
	}
}
