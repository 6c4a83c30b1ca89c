package functions_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/adapters"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/stripe"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
)

// fromEnv builds function id's dependencies as its Lambda entry does
// (deps.FromEnv, with the secret named so its settings are read too),
// reporting the variables it reads.
func fromEnv(ctx context.Context, s *localenv.Stack, id string) (map[string]bool, error) {
	getenv, err := s.Env(id)
	if err != nil {
		return nil, err
	}
	read := map[string]bool{}
	lambda := func(k string) string {
		read[k] = true
		v := getenv(k)
		switch k {
		case deps.EnvSecretID:
			return "arn:aws:secretsmanager:us-east-1:123456789012:secret:tollgate/dev/keys"
		case dynamo.EnvEndpoint:
			return s.Endpoint
		}
		return v
	}
	_, err = deps.FromEnv(ctx, lambda)
	return read, err
}

// construct builds function id with its constructors on the stack's
// dependencies.
func construct(s *localenv.Stack, id string) error {
	d, err := s.Deps(id)
	if err != nil {
		return err
	}
	if c, ok := functions.Constructors[id]; ok {
		if _, err := c(d); err != nil {
			return err
		}
	}
	if c, ok := functions.Jobs[id]; ok {
		if _, err := c(d); err != nil {
			return err
		}
	}
	if c, ok := functions.Streams[id]; ok {
		if _, err := c(d); err != nil {
			return err
		}
	}
	return nil
}

// expanded is the project's template as sam deploy expands it (the test
// skips without samtranslator, fails under CI=true).
func expanded(t *testing.T) *samtranslate.Template {
	t.Helper()
	samtranslate.Require(t)
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtranslate.Load(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// envOf is function id's whole environment on stack s.
func envOf(t *testing.T, s *localenv.Stack, id string) map[string]string {
	t.Helper()
	getenv, err := s.Env(id)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, k := range s.EnvKeys(id) {
		env[k] = getenv(k)
	}
	return env
}

// Every value a template parameter allows (each AllowedValues entry,
// examples of its AllowedPattern at its edges, its default, a Number's
// bounds) is accepted by the code that reads it: every function whose
// environment the value changes, and whose constructors read the variable
// it changes, builds with it; deps.FromEnv (every Lambda's entry) takes it.
func TestParametersTheCodeAccepts(t *testing.T) {
	ctx := context.Background()
	tmpl := expanded(t)
	stack := ddbtest.NewStack(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{})
	ids := stack.Template.FunctionIDs()
	base := map[string]map[string]string{}
	reads := map[string][]string{}  // what each function's constructors read
	entryReads := map[string]bool{} // what deps.FromEnv reads (the same for every function)
	for _, id := range ids {
		if err := construct(stack, id); err != nil {
			t.Fatalf("%s with the template's defaults: %v", id, err)
		}
		reads[id] = stack.Reads(id)
		read, err := fromEnv(ctx, stack, id)
		if err != nil {
			t.Fatalf("%s with the template's defaults: %v", id, err)
		}
		maps.Copy(entryReads, read)
		base[id] = envOf(t, stack, id)
	}
	names := slices.Sorted(maps.Keys(tmpl.Parameters))
	tried := 0
	for _, name := range names {
		values, err := tmpl.Parameters[name].Values()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		readers := map[string]bool{}
		for _, v := range values {
			s, err := stack.WithParameters(ctx, map[string]string{name: v})
			if err != nil {
				t.Fatalf("%s=%q: %v", name, v, err)
			}
			entryChecked := false
			for _, id := range ids {
				var changed, changedEntry []string
				for k, val := range envOf(t, s, id) {
					if val == base[id][k] {
						continue
					}
					if slices.Contains(reads[id], k) {
						changed = append(changed, k)
					}
					if entryReads[k] {
						changedEntry = append(changedEntry, k)
					}
				}
				sort.Strings(changed)
				sort.Strings(changedEntry)
				if len(changed) > 0 {
					readers[id] = true
					tried++
					if err := construct(s, id); err != nil {
						t.Errorf("parameter %s=%q (allowed by the template) is refused by %s reading %v: %v", name, v, id, changed, err)
					}
				}
				// deps.FromEnv is every function's: one function tells.
				if len(changedEntry) > 0 && !entryChecked {
					entryChecked, readers["deps.FromEnv"] = true, true
					if _, err := fromEnv(ctx, s, id); err != nil {
						t.Errorf("parameter %s=%q (allowed by the template) is refused by deps.FromEnv (%s) reading %v: %v", name, v, id, changedEntry, err)
					}
				}
			}
		}
		t.Logf("%s: %d values %q, read by %v", name, len(values), values, slices.Sorted(maps.Keys(readers)))
	}
	t.Logf("%d function builds with a parameter value", tried)
}

// The DynamoDB client's worst retry backoff in one call: the SDK's
// standard retryer (dynamo.NewClient keeps it), up to 2^i s (at most
// MaxBackoff) after attempt i.
func dynamoDBBackoff() time.Duration {
	var total time.Duration
	for i := 1; i < retry.DefaultMaxAttempts; i++ {
		total += min(time.Duration(1<<i)*time.Second, retry.DefaultMaxBackoff)
	}
	return total
}

// timeoutMargin is what a function needs beyond its outbound waits: its
// own DynamoDB calls and answering.
const timeoutMargin = 2 * time.Second

// apiGatewayTimeout is HTTP API's integration timeout: a function behind a
// route answers before it or the client gets API Gateway's 503.
const apiGatewayTimeout = 30 * time.Second

// Every function's Lambda timeout (the expanded template's) is above every
// outbound call it waits on — the Stripe client's timeout as its
// environment sets it, the webhook dispatcher's per-attempt timeout — plus
// the DynamoDB SDK's retry backoff and a margin, so a slow PSP ends in the
// function's own answer, not a Lambda timeout; and a function behind a
// route answers within API Gateway's 30 s.
func TestTimeoutsAboveOutboundCalls(t *testing.T) {
	fns, err := expanded(t).Functions()
	if err != nil {
		t.Fatal(err)
	}
	stack := ddbtest.NewStack(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{})
	for _, id := range stack.Template.FunctionIDs() {
		if err := construct(stack, id); err != nil {
			t.Fatal(err)
		}
		reads := stack.Reads(id)
		d, err := stack.Deps(id)
		if err != nil {
			t.Fatal(err)
		}
		outbound := map[string]time.Duration{}
		// A function that reads a Stripe timeout builds a Stripe client.
		for _, setting := range []string{adapters.EnvStripeTimeout, checkout.EnvStripeTimeout} {
			if slices.Contains(reads, setting) {
				if outbound["Stripe ("+setting+")"], err = d.Duration(setting, stripe.DefaultTimeout); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, ok := functions.Jobs[id]; ok && id == "DispatchFunction" {
			outbound["webhook delivery"] = delivery.Timeout // functions/platform/dispatch builds delivery.Client
		}
		longest := time.Duration(0)
		for _, d := range outbound {
			longest = max(longest, d)
		}
		need := longest + dynamoDBBackoff() + timeoutMargin
		got := fns[id].Timeout
		if got <= need {
			t.Errorf("%s: Timeout %v, want above %v: outbound %v + DynamoDB retry backoff %v + margin %v",
				id, got, need, fmt.Sprint(outbound), dynamoDBBackoff(), timeoutMargin)
		}
		if len(stack.Template.Functions[id].Routes) > 0 && got >= apiGatewayTimeout {
			t.Errorf("%s: Timeout %v behind a route, want below API Gateway's %v", id, got, apiGatewayTimeout)
		}
	}
}
