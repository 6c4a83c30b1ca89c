package lambdaemu

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// Env returns the environment function id's bootstrap gets here: what the
// Lambda service sets (region, function name, the function's MemorySize from
// the template, dummy role credentials), the function's template environment
// with the stack's table names, DYNAMODB_ENDPOINT pointing at the stack's
// DynamoDB, and the stack's keys in their variables (no SECRET_ID: keys come
// from the variables, as under sam local invoke). Nothing of this process's
// own environment is passed on. binary is the bootstrap's path
// (LAMBDA_TASK_ROOT is its directory).
func Env(stack *localenv.Stack, id, binary string) ([]string, error) {
	fn, ok := stack.Template.Functions[id]
	if !ok {
		return nil, fmt.Errorf("function %s is not in the template", id)
	}
	getenv, err := stack.Env(id)
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, k := range stack.EnvKeys(id) {
		vars[k] = getenv(k)
	}
	vars[dynamo.EnvEndpoint] = stack.Endpoint
	for _, n := range secrets.Names {
		vars[n.EnvVar()] = stack.Keys[n]
	}
	root, err := filepath.Abs(filepath.Dir(binary))
	if err != nil {
		return nil, err
	}
	for k, v := range map[string]string{
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_SESSION_TOKEN":               "local",
		"AWS_LAMBDA_FUNCTION_NAME":        id,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": fmt.Sprint(fn.MemorySize),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + id,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "local/[$LATEST]lambdaemu",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"LAMBDA_TASK_ROOT":                root,
		"LAMBDA_RUNTIME_DIR":              root,
		"_HANDLER":                        "bootstrap",
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin:/bin",
	} {
		vars[k] = v
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}
