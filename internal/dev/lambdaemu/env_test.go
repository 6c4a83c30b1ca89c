package lambdaemu_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/lambdaemu"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
)

// The memory a bootstrap is told comes from the template, per function.
func TestEnvMemorySize(t *testing.T) {
	const template = `
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023
    Handler: bootstrap
    MemorySize: 256
Resources:
  Big:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      MemorySize: 1769
  Plain:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
`
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(template), 0o600); err != nil {
		t.Fatal(err)
	}
	// No tables: the stack's DynamoDB is never called; the endpoint only
	// has to be set.
	stack, err := localenv.Start(context.Background(), localenv.Config{
		TemplatePath: path, Endpoint: "http://127.0.0.1:9", Getenv: func(string) string { return "" }, Logger: localenv.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)

	tests := []struct {
		id   string
		want string
	}{
		{"Big", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1769"},
		{"Plain", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			env, err := lambdaemu.Env(stack, tt.id, filepath.Join(t.TempDir(), "bootstrap"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(env, tt.want) {
				t.Errorf("environment lacks %s: %v", tt.want, env)
			}
		})
	}
	if _, err := lambdaemu.Env(stack, "Missing", "bootstrap"); err == nil {
		t.Error("Env of a function not in the template: no error")
	}
}
