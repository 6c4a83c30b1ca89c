package deployrehearsal_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/deployrehearsal"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
)

// namedWithoutStack are the resources whose account-wide name may lack the
// stack's name, each with the reason.
var namedWithoutStack = map[string]string{
	// Its name carries the Environment, so the dev and prod stacks (one
	// account) do not collide; two stacks of one Environment would. Renaming
	// it replaces the secret on the next deploy: a new generated
	// stashApiKey and the keys set after deployment gone, so that needs a
	// migration (docs/deploy.md, "Setting the keys"), not a template edit.
	"KeysSecret": "named by Environment; a rename replaces the deployed secret",
}

func load(t *testing.T, params map[string]string) (*samtranslate.Template, string) {
	t.Helper()
	samtranslate.Require(t)
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtranslate.Load(context.Background(), path, params)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl, filepath.Dir(path)
}

// deployments reads the samconfig.toml next to the template.
func deployments(t *testing.T, root string) []deployrehearsal.Deployment {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	deps, err := deployrehearsal.Deployments(src)
	if err != nil {
		t.Fatal(err)
	}
	return deps
}

// Two stacks of the template share an account (tollgate-dev and
// tollgate-prod): every resource the expanded template names explicitly
// (Types' NameProperty: schedules, secrets, tables, queues, functions,
// roles) must carry ${AWS::StackName}, or the second stack fails to create.
func TestNamesCarryStackName(t *testing.T) {
	tmpl, root := load(t, nil)
	bad, err := deployrehearsal.UnnamedByStack(tmpl.Raw, namedWithoutStack)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("named without the stack: %s", b)
	}
	for id, why := range namedWithoutStack {
		t.Logf("allowed without the stack's name: %s (%s)", id, why)
	}
	// An IAM resource with a name of its own needs CAPABILITY_NAMED_IAM,
	// which samconfig.toml does not grant.
	deps := deployments(t, root)
	for _, id := range tmpl.OfType("AWS::IAM::Role") {
		if strings.Contains(string(tmpl.Resources[id].Properties), `"RoleName"`) {
			for _, d := range deps {
				if !slices.Contains(d.Capabilities, "CAPABILITY_NAMED_IAM") {
					t.Errorf("%s names its role; samconfig.toml [%s] deploys without CAPABILITY_NAMED_IAM", id, d.Env)
				}
			}
		}
	}
}

// The check sees a fixed name, a name without the stack and one with it.
func TestUnnamedByStack(t *testing.T) {
	raw := []byte(`{"Resources": {
		"Fixed": {"Type": "AWS::Scheduler::Schedule", "Properties": {"Name": "FixedEveryMinute"}},
		"ByEnv": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": {"Fn::Sub": "t-${Environment}"}}},
		"ByStack": {"Type": "AWS::Scheduler::Schedule", "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-sweeper"}}},
		"Joined": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "q"]]}}},
		"Unnamed": {"Type": "AWS::SQS::Queue", "Properties": {}},
		"Allowed": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "x"}},
		"Odd": {"Type": "AWS::Foo::Bar", "Properties": {}}}}`)
	bad, err := deployrehearsal.UnnamedByStack(raw, map[string]string{"Allowed": "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 3 || !strings.HasPrefix(bad[0], "ByEnv ") || !strings.HasPrefix(bad[1], "Fixed ") || !strings.HasPrefix(bad[2], "Odd: type AWS::Foo::Bar") {
		t.Errorf("got %q", bad)
	}
}

// samconfig.toml gives one deployment per config env.
func TestDeployments(t *testing.T) {
	deps, err := deployrehearsal.Deployments([]byte(`version = 0.1
[default.global.parameters]
stack_name = "tollgate-dev"
[default.deploy.parameters]
capabilities = "CAPABILITY_IAM"
parameter_overrides = "Environment=\"dev\" LogLevel=debug"
[prod.global.parameters]
stack_name = "tollgate-prod"
[prod.deploy.parameters]
capabilities = "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"
parameter_overrides = "Environment=\"prod\" ThrottlingRateLimit=\"500\""
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(deps) != 2 || deps[0].StackName != "tollgate-dev" || deps[0].Parameters["Environment"] != "dev" || deps[0].Parameters["LogLevel"] != "debug" ||
		deps[1].StackName != "tollgate-prod" || deps[1].Parameters["ThrottlingRateLimit"] != "500" || len(deps[1].Capabilities) != 2 {
		t.Errorf("got %+v", deps)
	}
}
