package iampolicy_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/tollgate-dev/tollgate/internal/dev/iampolicy"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// store answers every call it gets with an empty success, counting them.
type store struct{ calls int }

func (s *store) Do(req *http.Request) (*http.Response, error) {
	s.calls++
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

func guarded() *iampolicy.Guard {
	keys := iampolicy.SecretARN("tollgate/dev/keys")
	return iampolicy.NewGuard(map[string]*iampolicy.Role{"Fn": {
		Function: "Fn", Caller: "arn:aws:sts::123456789012:assumed-role/r/Fn",
		Env: map[string]string{"SECRET_ID": keys, "STORE_SECRET_PREFIX": "tollgate/dev/stores/"},
		Policies: []iampolicy.Policy{{Name: "p", Statements: []iampolicy.Statement{
			{Effect: "Allow", Action: []string{"dynamodb:GetItem"}, Resource: []string{players}},
			{Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{"arn:aws:secretsmanager:us-east-1:123456789012:secret:tollgate/dev/stores/*"}},
		}}},
	}}, nil)
}

// A call the role denies is answered as DynamoDB answers it (400
// AccessDeniedException naming caller, action and resource) without
// reaching the store, and recorded; an allowed one goes through.
func TestGuardDynamoDB(t *testing.T) {
	g := guarded()
	st := &store{}
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:9"),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), HTTPClient: g.HTTPClient("Fn", st)})
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "p1"}}
	if _, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("Players"), Key: key}); err != nil || st.calls != 1 {
		t.Fatalf("allowed GetItem: %v (%d calls)", err, st.calls)
	}
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("Players"), Item: key})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" ||
		!strings.Contains(api.ErrorMessage(), "User: arn:aws:sts::123456789012:assumed-role/r/Fn is not authorized to perform: dynamodb:PutItem on resource: "+players) {
		t.Fatalf("denied PutItem: %v", err)
	}
	if st.calls != 1 {
		t.Errorf("the denied call reached the store (%d calls)", st.calls)
	}
	if d := g.Denials(); len(d) != 1 || d[0].Function != "Fn" || d[0].Action != "dynamodb:PutItem" || d[0].Resource != players {
		t.Errorf("denials %v", d)
	}
}

// A key read is checked as the deployed read of its secret: the keys
// secret (denied here) or a store's webhook secret (allowed).
func TestGuardSecrets(t *testing.T) {
	g := guarded()
	src := g.Secrets("Fn", secrets.Static{secrets.CheckoutSigningKey: "k", "local:my-store": "whsec"})
	if _, err := src.Values(context.Background(), secrets.CheckoutSigningKey); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("keys secret: %v, want AccessDenied", err)
	}
	if v, err := src.Values(context.Background(), "local:my-store"); err != nil || len(v) != 1 {
		t.Fatalf("store secret: %v %v", v, err)
	}
	if err := g.SecretRead("Fn")(context.Background(), "MERCHANT_SECRET_PREFIX", "m1"); err == nil {
		t.Fatal("a merchant secret read by a function whose deployed environment names none was allowed")
	}
	if d := g.Denials(); len(d) != 2 || !strings.HasPrefix(d[0].Resource, iampolicy.SecretARN("tollgate/dev/keys")) {
		t.Errorf("denials %v", d)
	}
}
