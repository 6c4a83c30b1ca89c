package iampolicy_test

import (
	"context"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/iampolicy"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
)

// The project's roles, read from the SAM expansion with the local names:
// table ARNs name the local tables, the keys secret its ARN, Subs resolved.
func TestRolesOfTheTemplate(t *testing.T) {
	samtranslate.Require(t)
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	roles, _, err := iampolicy.Load(context.Background(), path, iampolicy.Locals{TableName: func(id string) string { return "t1-" + id }})
	if err != nil {
		t.Fatal(err)
	}
	keys := iampolicy.SecretARN("tollgate/dev/keys")
	tests := []struct {
		fn, action, resource string
		want                 iampolicy.Decision
	}{
		{"CatalogFunction", "dynamodb:Scan", iampolicy.TableARN("t1-CatalogTable"), iampolicy.Allowed},
		{"CatalogFunction", "dynamodb:Scan", iampolicy.TableARN("CatalogTable"), iampolicy.ImplicitDeny},
		{"CatalogFunction", "secretsmanager:GetSecretValue", keys, iampolicy.Allowed},
		{"CatalogFunction", "dynamodb:PutItem", iampolicy.TableARN("t1-CatalogTable"), iampolicy.ImplicitDeny},
		{"MarketFunction", "dynamodb:Query", iampolicy.TableARN("t1-StoresTable") + "/index/market", iampolicy.Allowed},
		{"DispatchFunction", "secretsmanager:GetSecretValue", iampolicy.SecretARN("tollgate/dev/stores/my-store"), iampolicy.Allowed},
		// The buyers' emails carry the order link signed with checkoutSigningKey.
		{"DispatchFunction", "secretsmanager:GetSecretValue", keys, iampolicy.Allowed},
		{"DispatchFunction", "secretsmanager:GetSecretValue", iampolicy.SecretARN("tollgate/prod/keys"), iampolicy.ImplicitDeny},
		{"DispatchFunction", "ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/example.com", iampolicy.ImplicitDeny}, // no MailFrom: no identity
		{"DispatchFunction", "dynamodb:GetRecords", iampolicy.TableARN("t1-OutboxTable") + "/stream/2026-01-01T00:00:00.000", iampolicy.Allowed},
		{"OpenAPIFunction", "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:x", iampolicy.Allowed},
	}
	for _, tt := range tests {
		role, ok := roles[tt.fn]
		if !ok {
			t.Fatalf("no role for %s", tt.fn)
		}
		res, err := iampolicy.Evaluate(role.Policies, iampolicy.Request{Action: tt.action, Resource: tt.resource})
		if err != nil {
			t.Fatal(err)
		}
		if res.Decision != tt.want {
			t.Errorf("%s %s on %s: %s, want %s", tt.fn, tt.action, tt.resource, res.Decision, tt.want)
		}
	}
	if got := roles["DispatchFunction"].Env["STORE_SECRET_PREFIX"]; got != "tollgate/dev/stores/" {
		t.Errorf("STORE_SECRET_PREFIX %q", got)
	}
	if got := roles["CatalogFunction"].Env["SECRET_ID"]; got != keys {
		t.Errorf("SECRET_ID %q, want the secret's ARN %s", got, keys)
	}
}

// With a sender, the dispatcher may send email from that identity (and
// through that configuration set) only.
func TestRolesSendEmailFromTheIdentityOnly(t *testing.T) {
	samtranslate.Require(t)
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	roles, _, err := iampolicy.Load(context.Background(), path, iampolicy.Locals{TableName: func(id string) string { return id },
		Params: map[string]string{"MailFrom": "receipts@example.com", "MailIdentity": "example.com", "MailConfigurationSet": "receipts"}})
	if err != nil {
		t.Fatal(err)
	}
	ses := "arn:aws:ses:us-east-1:123456789012:"
	for _, tt := range []struct {
		fn, action, resource string
		want                 iampolicy.Decision
	}{
		{"DispatchFunction", "ses:SendEmail", ses + "identity/example.com", iampolicy.Allowed},
		{"DispatchFunction", "ses:SendEmail", ses + "configuration-set/receipts", iampolicy.Allowed},
		{"DispatchFunction", "ses:SendEmail", ses + "identity/other.example", iampolicy.ImplicitDeny},
		{"DispatchFunction", "ses:SendRawEmail", ses + "identity/example.com", iampolicy.ImplicitDeny},
		{"CheckoutPayFunction", "ses:SendEmail", ses + "identity/example.com", iampolicy.ImplicitDeny},
	} {
		res, err := iampolicy.Evaluate(roles[tt.fn].Policies, iampolicy.Request{Action: tt.action, Resource: tt.resource})
		if err != nil {
			t.Fatal(err)
		}
		if res.Decision != tt.want {
			t.Errorf("%s %s on %s: %s, want %s", tt.fn, tt.action, tt.resource, res.Decision, tt.want)
		}
	}
	if got := roles["DispatchFunction"].Env["MAIL_FROM"]; got != "receipts@example.com" {
		t.Errorf("MAIL_FROM %q", got)
	}
}
