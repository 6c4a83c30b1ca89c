package iampolicy_test

import (
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/iampolicy"
)

const (
	players = "arn:aws:dynamodb:us-east-1:123456789012:table/Players"
	stores  = "arn:aws:dynamodb:us-east-1:123456789012:table/Stores"
)

func allow(actions, resources []string, cond map[string]map[string][]string) iampolicy.Statement {
	return iampolicy.Statement{Effect: "Allow", Action: actions, Resource: resources, Condition: cond}
}

// Known answers of IAM's evaluation of identity policies.
func TestEvaluate(t *testing.T) {
	profileAttrs := map[string]map[string][]string{
		"ForAllValues:StringEquals": {"dynamodb:Attributes": {"pk", "sk", "name"}},
		"StringEqualsIfExists":      {"dynamodb:Select": {"SPECIFIC_ATTRIBUTES"}},
	}
	tests := []struct {
		name string
		sts  []iampolicy.Statement
		req  iampolicy.Request
		want iampolicy.Decision
	}{
		{"exact action and resource", []iampolicy.Statement{allow([]string{"dynamodb:GetItem"}, []string{players}, nil)},
			iampolicy.Request{Action: "dynamodb:GetItem", Resource: players}, iampolicy.Allowed},
		{"nothing matches: implicit deny", []iampolicy.Statement{allow([]string{"dynamodb:GetItem"}, []string{players}, nil)},
			iampolicy.Request{Action: "dynamodb:PutItem", Resource: players}, iampolicy.ImplicitDeny},
		{"action is case-insensitive", []iampolicy.Statement{allow([]string{"DynamoDB:getitem"}, []string{players}, nil)},
			iampolicy.Request{Action: "dynamodb:GetItem", Resource: players}, iampolicy.Allowed},
		{"resource is case-sensitive", []iampolicy.Statement{allow([]string{"dynamodb:GetItem"}, []string{strings.ToLower(players)}, nil)},
			iampolicy.Request{Action: "dynamodb:GetItem", Resource: players}, iampolicy.ImplicitDeny},
		{"action wildcard", []iampolicy.Statement{allow([]string{"dynamodb:*Item"}, []string{players}, nil)},
			iampolicy.Request{Action: "dynamodb:ConditionCheckItem", Resource: players}, iampolicy.Allowed},
		{"action ? is one character", []iampolicy.Statement{allow([]string{"dynamodb:?etItem"}, []string{players}, nil)},
			iampolicy.Request{Action: "dynamodb:BatchGetItem", Resource: players}, iampolicy.ImplicitDeny},
		{"table ARN does not cover its index", []iampolicy.Statement{allow([]string{"dynamodb:Query"}, []string{stores}, nil)},
			iampolicy.Request{Action: "dynamodb:Query", Resource: stores + "/index/market"}, iampolicy.ImplicitDeny},
		{"index wildcard", []iampolicy.Statement{allow([]string{"dynamodb:Query"}, []string{stores + "/index/*"}, nil)},
			iampolicy.Request{Action: "dynamodb:Query", Resource: stores + "/index/market"}, iampolicy.Allowed},
		{"resource ? wildcard", []iampolicy.Statement{allow([]string{"secretsmanager:GetSecretValue"}, []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:keys-??????"}, nil)},
			iampolicy.Request{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:keys-AbC123"}, iampolicy.Allowed},
		{"explicit deny wins over allow", []iampolicy.Statement{
			allow([]string{"dynamodb:*"}, []string{"*"}, nil),
			{Effect: "Deny", Action: []string{"dynamodb:DeleteItem"}, Resource: []string{players}},
		}, iampolicy.Request{Action: "dynamodb:DeleteItem", Resource: players}, iampolicy.ExplicitDeny},
		{"NotAction allows every other action", []iampolicy.Statement{{Effect: "Allow", NotAction: []string{"dynamodb:Delete*"}, Resource: []string{players}}},
			iampolicy.Request{Action: "dynamodb:PutItem", Resource: players}, iampolicy.Allowed},
		{"NotAction excludes its own", []iampolicy.Statement{{Effect: "Allow", NotAction: []string{"dynamodb:Delete*"}, Resource: []string{players}}},
			iampolicy.Request{Action: "dynamodb:DeleteItem", Resource: players}, iampolicy.ImplicitDeny},
		{"NotResource with Deny", []iampolicy.Statement{
			allow([]string{"dynamodb:GetItem"}, []string{"*"}, nil),
			{Effect: "Deny", Action: []string{"dynamodb:*"}, NotResource: []string{players}},
		}, iampolicy.Request{Action: "dynamodb:GetItem", Resource: stores}, iampolicy.ExplicitDeny},
		{"ForAllValues: every attribute listed", []iampolicy.Statement{allow([]string{"dynamodb:GetItem"}, []string{players}, profileAttrs)},
			iampolicy.Request{Action: "dynamodb:GetItem", Resource: players, Context: map[string][]string{"dynamodb:Attributes": {"pk", "sk", "name"}}}, iampolicy.Allowed},
		{"ForAllValues: one attribute not listed", []iampolicy.Statement{allow([]string{"dynamodb:GetItem"}, []string{players}, profileAttrs)},
			iampolicy.Request{Action: "dynamodb:GetItem", Resource: players, Context: map[string][]string{"dynamodb:Attributes": {"pk", "secret"}}}, iampolicy.ImplicitDeny},
		{"ForAllValues: absent key holds (vacuously)", []iampolicy.Statement{allow([]string{"dynamodb:GetItem"}, []string{players}, map[string]map[string][]string{
			"ForAllValues:StringEquals": {"dynamodb:Attributes": {"pk"}}})},
			iampolicy.Request{Action: "dynamodb:GetItem", Resource: players}, iampolicy.Allowed},
		{"IfExists: another Select fails", []iampolicy.Statement{allow([]string{"dynamodb:Query"}, []string{players}, profileAttrs)},
			iampolicy.Request{Action: "dynamodb:Query", Resource: players, Context: map[string][]string{"dynamodb:Select": {"ALL_ATTRIBUTES"}}}, iampolicy.ImplicitDeny},
		{"StringEquals: absent key fails", []iampolicy.Statement{allow([]string{"dynamodb:PutItem"}, []string{players}, map[string]map[string][]string{
			"StringEquals": {"dynamodb:ReturnValues": {"NONE"}}})},
			iampolicy.Request{Action: "dynamodb:PutItem", Resource: players}, iampolicy.ImplicitDeny},
		{"StringNotEquals: absent key holds", []iampolicy.Statement{allow([]string{"dynamodb:PutItem"}, []string{players}, map[string]map[string][]string{
			"StringNotEquals": {"dynamodb:ReturnValues": {"ALL_OLD"}}})},
			iampolicy.Request{Action: "dynamodb:PutItem", Resource: players}, iampolicy.Allowed},
		{"condition keys are case-insensitive", []iampolicy.Statement{allow([]string{"dynamodb:PutItem"}, []string{players}, map[string]map[string][]string{
			"StringEquals": {"DynamoDB:ReturnValues": {"NONE"}}})},
			iampolicy.Request{Action: "dynamodb:PutItem", Resource: players, Context: map[string][]string{"dynamodb:ReturnValues": {"NONE"}}}, iampolicy.Allowed},
		{"ForAllValues:StringLike on leading keys", []iampolicy.Statement{allow([]string{"dynamodb:Query"}, []string{players}, map[string]map[string][]string{
			"ForAllValues:StringLike": {"dynamodb:LeadingKeys": {"player#*"}}})},
			iampolicy.Request{Action: "dynamodb:Query", Resource: players, Context: map[string][]string{"dynamodb:LeadingKeys": {"player#p1"}}}, iampolicy.Allowed},
		{"ForAllValues:StringLike refuses another key", []iampolicy.Statement{allow([]string{"dynamodb:Query"}, []string{players}, map[string]map[string][]string{
			"ForAllValues:StringLike": {"dynamodb:LeadingKeys": {"player#*"}}})},
			iampolicy.Request{Action: "dynamodb:Query", Resource: players, Context: map[string][]string{"dynamodb:LeadingKeys": {"store#s1"}}}, iampolicy.ImplicitDeny},
		{"ForAnyValue: absent key fails", []iampolicy.Statement{allow([]string{"dynamodb:Query"}, []string{players}, map[string]map[string][]string{
			"ForAnyValue:StringEquals": {"dynamodb:Attributes": {"pk"}}})},
			iampolicy.Request{Action: "dynamodb:Query", Resource: players}, iampolicy.ImplicitDeny},
		{"Null: key absent", []iampolicy.Statement{allow([]string{"dynamodb:Query"}, []string{players}, map[string]map[string][]string{
			"Null": {"dynamodb:Select": {"true"}}})},
			iampolicy.Request{Action: "dynamodb:Query", Resource: players}, iampolicy.Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := iampolicy.Evaluate([]iampolicy.Policy{{Name: "p", Statements: tt.sts}}, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != tt.want {
				t.Errorf("%s on %s: %s, want %s", tt.req.Action, tt.req.Resource, res.Decision, tt.want)
			}
			if (res.Decision == iampolicy.Allowed) != (len(res.Grants) > 0) {
				t.Errorf("grants %v for %s", res.Grants, res.Decision)
			}
		})
	}
}

// A condition the evaluator does not know fails loudly, even when another
// statement would allow the request: ignoring it could allow too much.
func TestEvaluateUnknownOperator(t *testing.T) {
	for _, op := range []string{"NumericLessThan", "DateGreaterThan", "ForAllValues:IpAddress", "StringEqualz"} {
		sts := []iampolicy.Statement{allow([]string{"dynamodb:GetItem"}, []string{players}, map[string]map[string][]string{op: {"aws:SourceIp": {"1"}}})}
		if _, err := iampolicy.Evaluate([]iampolicy.Policy{{Name: "p", Statements: sts}}, iampolicy.Request{Action: "dynamodb:GetItem", Resource: players}); err == nil {
			t.Errorf("%s: evaluated, want an error", op)
		}
	}
}

// Each DynamoDB call needs what IAM checks for it: a transaction its
// items' own actions on their tables, a batch its action per table, an
// index query the index's ARN.
func TestDynamoDBRequests(t *testing.T) {
	hash := func(string) string { return "pk" }
	tests := []struct {
		op, body string
		want     []string // action resource
	}{
		{"GetItem", `{"TableName":"Players","Key":{"pk":{"S":"p1"}}}`, []string{"dynamodb:GetItem " + players}},
		{"Query", `{"TableName":"Stores","IndexName":"market","KeyConditionExpression":"marketPk = :m"}`, []string{"dynamodb:Query " + stores + "/index/market"}},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"Stores","Item":{"pk":{"S":"o"}}}},{"ConditionCheck":{"TableName":"Players","Key":{"pk":{"S":"p"}}}},{"Update":{"TableName":"Players","Key":{"pk":{"S":"p"}}}},{"Delete":{"TableName":"Stores","Key":{"pk":{"S":"o"}}}}]}`,
			[]string{"dynamodb:PutItem " + stores, "dynamodb:ConditionCheckItem " + players, "dynamodb:UpdateItem " + players, "dynamodb:DeleteItem " + stores}},
		{"TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"Players","Key":{"pk":{"S":"p"}}}}]}`, []string{"dynamodb:GetItem " + players}},
		{"BatchGetItem", `{"RequestItems":{"Stores":{"Keys":[{"pk":{"S":"a"}}]},"Players":{"Keys":[{"pk":{"S":"b"}}]}}}`, []string{"dynamodb:BatchGetItem " + players, "dynamodb:BatchGetItem " + stores}},
		{"BatchWriteItem", `{"RequestItems":{"Stores":[{"PutRequest":{"Item":{"pk":{"S":"a"}}}}]}}`, []string{"dynamodb:BatchWriteItem " + stores}},
		{"DescribeTable", `{"TableName":"Stores"}`, []string{"dynamodb:DescribeTable " + stores}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			reqs, err := iampolicy.DynamoDBRequests(tt.op, []byte(tt.body), hash)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range reqs {
				got = append(got, r.Action+" "+r.Resource)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// The condition keys of a request: attributes named (key, item,
// projection, update targets), Select, ReturnValues, leading keys ("-":
// the key is absent).
func TestDynamoDBConditionKeys(t *testing.T) {
	tests := []struct {
		op, body string
		want     map[string]string
	}{
		{"GetItem", `{"TableName":"Players","Key":{"pk":{"S":"p1"},"sk":{"S":"profile"}},"ProjectionExpression":"#n, avatarUrl.small, tags[0]","ExpressionAttributeNames":{"#n":"name"}}`,
			map[string]string{"dynamodb:Attributes": "avatarUrl,name,pk,sk,tags", "dynamodb:LeadingKeys": "p1", "dynamodb:Select": "-"}},
		{"UpdateItem", `{"TableName":"Players","Key":{"pk":{"S":"p1"}},"UpdateExpression":"SET #c = if_not_exists(#c, :z) + :one, b = :b REMOVE old ADD n :one","ExpressionAttributeNames":{"#c":"count"},"ReturnValues":"ALL_NEW"}`,
			map[string]string{"dynamodb:Attributes": "b,count,n,old,pk", "dynamodb:ReturnValues": "ALL_NEW"}},
		{"Query", `{"TableName":"Players","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"p9"}}}`,
			map[string]string{"dynamodb:Select": "ALL_ATTRIBUTES", "dynamodb:LeadingKeys": "p9"}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			reqs, err := iampolicy.DynamoDBRequests(tt.op, []byte(tt.body), func(string) string { return "pk" })
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range tt.want {
				got, present := reqs[0].Context[key]
				if want == "-" {
					if present {
						t.Errorf("%s: %v, want absent", key, got)
					}
				} else if strings.Join(got, ",") != want {
					t.Errorf("%s: %v, want %s", key, got, want)
				}
			}
		})
	}
}
