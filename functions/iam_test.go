package functions_test

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/iampolicy"
)

// Every end-to-end test here runs each function under its own role, as
// template.yaml has SAM create it (ddbtest guards every stack: a call the
// role denies fails as in AWS and fails its test, naming function, action
// and resource). After a whole run, TestMain also checks the other way:
// every permission a role grants was used by some test, or is listed here
// with why it stays.
var unexercised = []struct {
	Function string // "*": every function
	Action   string
	Resource string // a part of the resource ARN
	Why      string
}{
	{"*", "logs:CreateLogGroup", "*", "AWSLambdaBasicExecutionRole (SAM's default): Lambda's runtime writes the function's logs with it, not our code"},
	{"*", "logs:CreateLogStream", "*", "AWSLambdaBasicExecutionRole: Lambda's runtime writes the function's logs"},
	{"*", "logs:PutLogEvents", "*", "AWSLambdaBasicExecutionRole: Lambda's runtime writes the function's logs"},
	// SAM attaches AWSXrayWriteOnlyAccess to every role because Tracing is
	// set (the Tracing parameter): with Active, Lambda's X-Ray integration
	// sends the invocation's segments with it; no code of ours calls X-Ray.
	{"*", "xray:PutTraceSegments", "*", "AWSXrayWriteOnlyAccess (Tracing): Lambda sends the function's trace segments"},
	{"*", "xray:PutTelemetryRecords", "*", "AWSXrayWriteOnlyAccess (Tracing): Lambda's X-Ray integration"},
	{"*", "xray:GetSamplingRules", "*", "AWSXrayWriteOnlyAccess (Tracing): Lambda's X-Ray integration"},
	{"*", "xray:GetSamplingTargets", "*", "AWSXrayWriteOnlyAccess (Tracing): Lambda's X-Ray integration"},
	{"*", "xray:GetSamplingStatisticSummaries", "*", "AWSXrayWriteOnlyAccess (Tracing): Lambda's X-Ray integration"},
	// The dispatcher's stream mapping (DispatchStream) reads the outbox's
	// stream and sends failed batches' descriptions with the function's
	// role: Lambda's poller, not our code.
	{"DispatchFunction", "dynamodb:DescribeStream", "OutboxTable/stream/", "the DispatchStream mapping's poller reads the stream with the role"},
	{"DispatchFunction", "dynamodb:GetRecords", "OutboxTable/stream/", "the DispatchStream mapping's poller reads the stream with the role"},
	{"DispatchFunction", "dynamodb:GetShardIterator", "OutboxTable/stream/", "the DispatchStream mapping's poller reads the stream with the role"},
	{"DispatchFunction", "dynamodb:ListStreams", "OutboxTable/stream/", "the DispatchStream mapping's poller reads the stream with the role"},
	{"DispatchFunction", "sqs:SendMessage", "DispatchDeadLetterQueue", "the DispatchStream mapping's on-failure destination sends with the role"},
	// The buyers' emails go through SES only with MailFrom set; the tests
	// here keep them as files (MAIL_DIR), shared/platform/mail's send them on moto.
	{"DispatchFunction", "ses:SendEmail", "identity/", "SES sends only when MailFrom is set (shared/platform/mail's tests send on moto's SES v2)"},
	{"DispatchFunction", "ses:SendEmail", "configuration-set/", "a configuration set only when MailConfigurationSet is set"},
	// The portal's sign-in links and invitations, likewise (MAIL_DIR here).
	{"PortalAuthFunction", "ses:SendEmail", "identity/", "SES sends only when MailFrom is set (shared/platform/mail's tests send on moto's SES v2)"},
	{"PortalAuthFunction", "ses:SendEmail", "configuration-set/", "a configuration set only when MailConfigurationSet is set"},
	{"PortalTeamFunction", "ses:SendEmail", "identity/", "SES sends only when MailFrom is set (shared/platform/mail's tests send on moto's SES v2)"},
	{"PortalTeamFunction", "ses:SendEmail", "configuration-set/", "a configuration set only when MailConfigurationSet is set"},
	// A store's webhook signing secret is a version of its Secrets Manager
	// secret in AWS; the local runner (and so these tests) keeps rotated
	// secrets in its own key store. shared/storefront/stores' rotation tests
	// run the Secrets Manager client against moto, faults included.
	{"PortalStoreFunction", "secretsmanager:GetSecretValue", "secret:tollgate/dev/stores/*", "the store's previous secret version, read in AWS only (stores' rotation tests on moto)"},
	{"PortalStoreFunction", "secretsmanager:PutSecretValue", "secret:tollgate/dev/stores/*", "a rotation's new version, in AWS only (stores' rotation tests on moto)"},
	{"PortalStoreFunction", "secretsmanager:CreateSecret", "secret:tollgate/dev/stores/*", "a store's first secret, in AWS only (stores' rotation tests on moto)"},
	// Merchants' credentials are read for a STRIPE alias or payment only
	// (payments.Service.adapter); the payments tests here pay with the
	// SANDBOX, which needs none (functions/stripeflow runs alias creation
	// and pre-authorization against stripe-mock).
	{"AliasCreateFunction", "secretsmanager:GetSecretValue", "secret:tollgate/dev/merchants/*", "a STRIPE alias: the merchant's credentials (functions/stripeflow)"},
	{"AliasDeleteFunction", "secretsmanager:GetSecretValue", "secret:tollgate/dev/merchants/*", "a STRIPE alias is forgotten at the PSP"},
	{"PreauthorizationFunction", "secretsmanager:GetSecretValue", "secret:tollgate/dev/merchants/*", "a STRIPE pre-authorization (functions/stripeflow)"},
	{"PaymentAuthorizationFunction", "secretsmanager:GetSecretValue", "secret:tollgate/dev/merchants/*", "a STRIPE charge"},
	{"CaptureFunction", "secretsmanager:GetSecretValue", "secret:tollgate/dev/merchants/*", "a STRIPE capture"},
	{"ReverseFunction", "secretsmanager:GetSecretValue", "secret:tollgate/dev/merchants/*", "a STRIPE reversal"},
	{"RefundFunction", "secretsmanager:GetSecretValue", "secret:tollgate/dev/merchants/*", "a STRIPE refund"},
}

// wholeRun reports whether every test of the package ran (no -run, -skip
// or -short), the only run whose unused permissions mean anything.
func wholeRun() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}

// reportUnusedPermissions writes every permission no test used and no
// entry of unexercised explains, and every entry that explains nothing
// (stale); it returns 1 when there is any.
func reportUnusedPermissions(w io.Writer) int {
	unused, ok, err := iampolicy.Unused()
	if err != nil {
		fmt.Fprintf(w, "IAM: %v\n", err)
		return 1
	}
	if !ok {
		return 0 // no stack was guarded (samtranslator missing, outside CI)
	}
	explained := make([]bool, len(unexercised))
	var bad []string
	for _, p := range unused {
		found := false
		for i, e := range unexercised {
			if (e.Function == "*" || e.Function == p.Function) && e.Action == p.Action && strings.Contains(p.Resource, e.Resource) {
				explained[i], found = true, true
			}
		}
		if !found {
			bad = append(bad, "IAM: no test used "+p.String()+": remove it from template.yaml, or say in functions/iam_test.go why it stays")
		}
	}
	for i, e := range unexercised {
		if !explained[i] {
			bad = append(bad, fmt.Sprintf("IAM: functions/iam_test.go explains %s %s on %s, which is used or not granted: drop the entry", e.Function, e.Action, e.Resource))
		}
	}
	for _, b := range bad {
		fmt.Fprintln(w, b)
	}
	if len(bad) > 0 {
		return 1
	}
	return 0
}
