package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/stripe"
)

// paymentsClient calls the payments API through the local router, held to
// the contract.
type paymentsClient struct {
	t      *testing.T
	router http.Handler
	env    *ddbtest.Env
}

func newPaymentsClient(t *testing.T, b ddbtest.Backend) *paymentsClient {
	return newPaymentsClientWith(t, b, ddbtest.StackOptions{})
}

// newPaymentsClientWith is newPaymentsClient on a stack with options o.
func newPaymentsClientWith(t *testing.T, b ddbtest.Backend, o ddbtest.StackOptions) *paymentsClient {
	e := ddbtest.NewEnv(t, b, o)
	return &paymentsClient{t: t, router: e.Router(t), env: e}
}

// The dispatcher delivers a payment's notification to its merchant's
// webhook URL, signed with the merchant's signing secret.
func TestDispatchNotifiesMerchant(t *testing.T) {
	got := make(chan http.Header, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header
	}))
	t.Cleanup(hook.Close)
	c := newPaymentsClientWith(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Env: map[string]string{
		localenv.EnvPaymentsWebhookURL: hook.URL, "PAYMENTS_WEBHOOK_SECRET": "whsec_merchant"}})
	if code, pre := c.do("PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "notify-merchant-01"),
		`{"aliasId":"`+localenv.DemoAlias+`","paymentData":{"amount":500,"currency":"EUR","reason":"notify"}}`); code != 201 {
		t.Fatalf("preauth: %d %v", code, pre)
	}
	job, err := c.env.Stack.Job("DispatchFunction", functions.Jobs)
	if err != nil {
		t.Fatal(err)
	}
	if err := job(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-got:
		if h.Get("X-Tollgate-Event-Type") != "payment.PREAUTH.SUCCESS" || !strings.HasPrefix(h.Get("X-Tollgate-Signature"), "sha256=") {
			t.Fatalf("notification headers %v", h)
		}
	default:
		t.Fatal("the merchant got no notification")
	}
}

func (c *paymentsClient) do(method, path string, headers map[string]string, body string) (int, map[string]any) {
	c.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	c.router.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			c.t.Fatalf("%s %s: %d %s is not JSON", method, path, rec.Code, rec.Body)
		}
	}
	return rec.Code, out
}

var (
	secret      = map[string]string{"Secret-Key": localenv.DevPaymentsSecretKey, "PSP-Test-Mode": "true"}
	publishable = map[string]string{"Publishable-Key": localenv.DevPaymentsPublishableKey, "PSP-Test-Mode": "true"}
)

func with(h map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// The whole walk through the sandbox, with the DynamoDB round trips of
// each call once its function knows the key (a key it has not seen within
// KEY_CACHE_TTL costs one GetItem more): alias create 1; a first
// pre-authorization 1 read and 2 writes around the PSP call; its replay 1
// read; capture 2.
func TestPaymentsWalkthrough(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			c := newPaymentsClient(t, b)
			tr := c.env.Transport
			// Each function meets the keys once (warming its key cache).
			c.do("POST", "/api/v1/alias", with(publishable, "PSP-Type", "SANDBOX", "Idempotent-Key", "alias-warm-0001"), "")
			c.do("PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "preauth-warm-01"), `{"aliasId":"al_demo_visa","paymentData":{"amount":1,"currency":"EUR","reason":"warm"}}`)
			c.do("PUT", "/api/v1/preauthorization/tx_warm/capture", secret, "")
			tr.Reset()
			code, alias := c.do("POST", "/api/v1/alias", with(publishable, "PSP-Type", "SANDBOX", "Idempotent-Key", "alias-walk-0001"), "")
			if code != 201 || alias["aliasId"] == "" || alias["psp"].(map[string]any)["type"] != "SANDBOX" {
				t.Fatalf("alias: %d %v", code, alias)
			}
			if calls := tr.Calls(); len(calls) != 1 {
				t.Errorf("alias create made DynamoDB calls %v, want 1", calls)
			}
			id := alias["aliasId"].(string)
			if code, body := c.do("PUT", "/api/v1/alias/"+id, publishable, `{"pspAlias":"tok_visa","extra":{"paymentMethod":"CC"}}`); code != 200 {
				t.Fatalf("exchange: %d %v", code, body)
			}
			pre := fmt.Sprintf(`{"aliasId":%q,"paymentData":{"amount":1000,"currency":"EUR","reason":"Order 7"}}`, id)
			tr.Reset()
			// The key holds a comma: it reaches the handler whole through
			// API Gateway's event and the Lambda entry (the proxy library
			// alone would make it two values, refused as a repeated header).
			code, first := c.do("PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "preauth-walk-01"), pre)
			if code != 201 || first["status"] != "SUCCESS" || first["action"] != "PREAUTH" {
				t.Fatalf("preauth: %d %v", code, first)
			}
			if calls := tr.Calls(); !reflect.DeepEqual(calls, []string{"BatchGetItem", "TransactWriteItems", "TransactWriteItems"}) {
				t.Errorf("a first pre-authorization made DynamoDB calls %v, want a read and two writes", calls)
			}
			tr.Reset()
			code, again := c.do("PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "preauth-walk-01"), pre)
			if code != 201 || !reflect.DeepEqual(again, first) {
				t.Fatalf("replay: %d %v, want %v", code, again, first)
			}
			if calls := tr.Calls(); len(calls) != 1 {
				t.Errorf("a replay made DynamoDB calls %v, want one read", calls)
			}
			txn := first["id"].(string)
			tr.Reset()
			if code, cap := c.do("PUT", "/api/v1/preauthorization/"+txn+"/capture", secret, ""); code != 200 || cap["action"] != "CAPTURE" || cap["status"] != "SUCCESS" {
				t.Fatalf("capture: %d %v", code, cap)
			}
			if calls := tr.Calls(); len(calls) != 2 {
				t.Errorf("capture made DynamoDB calls %v, want 2", calls)
			}
			if code, ref := c.do("PUT", "/api/v1/authorization/"+txn+"/refund", with(secret, "Idempotent-Key", "refund-walk-01"), `{"amount":400,"currency":"EUR","reason":"returned"}`); code != 201 || ref["action"] != "REFUND" {
				t.Fatalf("refund: %d %v", code, ref)
			}
			code, tx := c.do("GET", "/api/v1/transactions/"+txn, secret, "")
			if code != 200 || tx["capturedAmount"] != 1000.0 || tx["refundedAmount"] != 400.0 || len(tx["actions"].([]any)) != 3 {
				t.Fatalf("transaction: %d %v", code, tx)
			}
			// A second pre-authorization is reversed instead.
			code, second := c.do("PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "preauth-walk-02"), pre)
			if code != 201 || second["status"] != "SUCCESS" {
				t.Fatalf("second preauth: %d %v", code, second)
			}
			if code, rev := c.do("PUT", "/api/v1/preauthorization/"+second["id"].(string)+"/reverse", secret, ""); code != 200 || rev["action"] != "REVERSAL" || rev["status"] != "SUCCESS" {
				t.Fatalf("reverse: %d %v", code, rev)
			}
			if code, body := c.do("DELETE", "/api/v1/alias/"+id, secret, ""); code != 204 || body != nil {
				t.Fatalf("delete: %d %v", code, body)
			}
			if code, body := c.do("PUT", "/api/v1/authorization", with(secret, "Idempotent-Key", "auth-after-delete"), pre); code != 400 || body["error_code"] != "3005" {
				t.Fatalf("charging a deleted alias: %d %v", code, body)
			}
		})
	}
}

// Bad input of every kind gets its documented code and stores nothing.
func TestPaymentsRefusals(t *testing.T) {
	c := newPaymentsClient(t, ddbtest.Backend{Name: "minidyn"})
	valid := `{"aliasId":"al_demo_visa","paymentData":{"amount":1000,"currency":"EUR","reason":"Order 9"}}`
	big := `{"aliasId":"al_demo_visa","paymentData":{"amount":1000,"currency":"EUR","reason":"` + strings.Repeat("x", 17<<10) + `"}}`
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		body    string
		status  int
		code    string
	}{
		{"no key", "PUT", "/api/v1/preauthorization", map[string]string{"Idempotent-Key": "refusal-00001"}, valid, 401, "1000"},
		{"unknown secret key", "PUT", "/api/v1/preauthorization", with(secret, "Secret-Key", "pay_sk_nobody_has_this_key_000000000000000000000", "Idempotent-Key", "refusal-00002"), valid, 400, "3001"},
		{"publishable key where the secret one is needed", "PUT", "/api/v1/preauthorization", with(publishable, "Secret-Key", localenv.DevPaymentsPublishableKey, "Idempotent-Key", "refusal-00003"), valid, 400, "3001"},
		{"secret key where the publishable one is needed", "POST", "/api/v1/alias", with(publishable, "Publishable-Key", localenv.DevPaymentsSecretKey, "PSP-Type", "SANDBOX", "Idempotent-Key", "refusal-00004"), "", 400, "3000"},
		{"missing Idempotent-Key", "PUT", "/api/v1/preauthorization", secret, valid, 400, "2002"},
		{"short Idempotent-Key", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "short"), valid, 400, "2003"},
		{"long Idempotent-Key", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", strings.Repeat("k", 41)), valid, 400, "2003"},
		{"bad PSP-Test-Mode", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00005", "PSP-Test-Mode", "yes"), valid, 400, "2003"},
		{"non-ISO currency", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00006"), strings.Replace(valid, `"EUR"`, `"EURO"`, 1), 400, "2001"},
		{"amount 0", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00007"), strings.Replace(valid, `1000`, `0`, 1), 400, "2001"},
		{"negative amount", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00008"), strings.Replace(valid, `1000`, `-5`, 1), 400, "2001"},
		{"fractional amount", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00009"), strings.Replace(valid, `1000`, `10.5`, 1), 400, "2006"},
		{"amount as text", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00010"), strings.Replace(valid, `1000`, `"ten"`, 1), 400, "2006"},
		{"amount as a string of digits", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00018"), strings.Replace(valid, `1000`, `"5000"`, 1), 400, "2006"},
		{"amount given twice", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00019"), strings.Replace(valid, `"amount":1000`, `"amount":1,"amount":5000`, 1), 400, "2004"},
		{"Idempotent-Key holding a comma", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal,00020"), valid, 400, "2003"},
		{"no reason", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00011"), strings.Replace(valid, `"reason":"Order 9"`, `"reason":""`, 1), 400, "2001"},
		{"not JSON", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00012"), `{"aliasId":`, 400, "2004"},
		{"unknown alias", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00013"), strings.Replace(valid, "al_demo_visa", "al_nothing_here", 1), 400, "3005"},
		{"live mode on a test alias", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00014", "PSP-Test-Mode", "false"), valid, 400, "3014"},
		{"oversized body", "PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00015"), big, 413, "2004"},
		{"unknown PSP-Type", "POST", "/api/v1/alias", with(publishable, "PSP-Type", "PAYPAL", "Idempotent-Key", "refusal-00016"), "", 400, "2003"},
		{"PSP without configuration", "POST", "/api/v1/alias", with(publishable, "PSP-Type", "ADYEN", "Idempotent-Key", "refusal-00017"), "", 400, "3003"},
		{"exchange without paymentMethod", "PUT", "/api/v1/alias/al_demo_visa", publishable, `{"pspAlias":"tok_visa","extra":{}}`, 400, "2001"},
		{"capture of an unknown transaction", "PUT", "/api/v1/preauthorization/tx_nothing/capture", secret, "", 400, "3012"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := c.do(tt.method, tt.path, tt.headers, tt.body)
			if code != tt.status || body["error_code"] != tt.code {
				t.Fatalf("%d %v, want %d error_code %s", code, body, tt.status, tt.code)
			}
		})
	}
	// Nothing was stored: the demo alias was never charged.
	if code, body := c.do("PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "refusal-00001"), valid); code != 201 || body["status"] != "SUCCESS" {
		t.Fatalf("the first refused key, now valid: %d %v", code, body)
	}
}

// A header given twice reaches the function as API Gateway delivers it,
// joined by a comma, and is refused alike for every header that matters:
// which of the two the caller meant is unknown. Nothing is charged.
func TestPaymentsRepeatedHeaders(t *testing.T) {
	c := newPaymentsClient(t, ddbtest.Backend{Name: "minidyn"})
	valid := `{"aliasId":"al_demo_visa","paymentData":{"amount":1000,"currency":"EUR","reason":"Order 9"}}`
	for _, tt := range []struct {
		header, first, second string
		path, body            string
		status                int
		code                  string
	}{
		{"PSP-Test-Mode", "true", "false", "/api/v1/preauthorization", valid, 400, "2003"},
		{"Idempotent-Key", "repeated-00001", "repeated-00002", "/api/v1/preauthorization", valid, 400, "2003"},
		{"Secret-Key", localenv.DevPaymentsSecretKey, localenv.DevPaymentsSecretKey, "/api/v1/preauthorization", valid, 401, "1000"},
		{"PSP-Type", "SANDBOX", "STRIPE", "/api/v1/alias", "", 400, "2003"},
		{"Publishable-Key", localenv.DevPaymentsPublishableKey, localenv.DevPaymentsPublishableKey, "/api/v1/alias", "", 401, "1000"},
	} {
		t.Run(tt.header, func(t *testing.T) {
			headers := with(secret, "Idempotent-Key", "repeated-00003")
			method := "PUT"
			if tt.path == "/api/v1/alias" {
				headers, method = with(publishable, "PSP-Type", "SANDBOX", "Idempotent-Key", "repeated-00004"), "POST"
			}
			req := httptest.NewRequest(method, tt.path, strings.NewReader(tt.body))
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			req.Header.Set(tt.header, tt.first)
			req.Header.Add(tt.header, tt.second)
			rec := httptest.NewRecorder()
			c.router.ServeHTTP(rec, req)
			var body map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tt.status || body["error_code"] != tt.code {
				t.Fatalf("%d %v, want %d error_code %s", rec.Code, body, tt.status, tt.code)
			}
		})
	}
	if code, body := c.do("PUT", "/api/v1/preauthorization", with(secret, "Idempotent-Key", "repeated-00001"), valid); code != 201 || body["status"] != "SUCCESS" {
		t.Fatalf("a key first given twice, now once: %d %v", code, body)
	}
}

// A Stripe event about a merchant's PENDING charge, signed with the
// merchant's webhook secret, settles it once; an unsigned or mis-signed one
// is refused and changes nothing.
func TestStripeWebhookSettles(t *testing.T) {
	const whsec = "whsec_test_local"
	e := ddbtest.NewEnv(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{Env: map[string]string{
		"PAYMENTS_STRIPE_TEST_SECRET_KEY": "sk_test_local", "PAYMENTS_STRIPE_WEBHOOK_SECRET": whsec}})
	c := &paymentsClient{t: t, router: e.Router(t), env: e}
	_, alias := c.do("POST", "/api/v1/alias", with(publishable, "PSP-Type", "SANDBOX", "Idempotent-Key", "alias-pend-0001"), "")
	id := alias["aliasId"].(string)
	c.do("PUT", "/api/v1/alias/"+id, publishable, `{"pspAlias":"tok_pending","extra":{"paymentMethod":"CC"}}`)
	code, pre := c.do("PUT", "/api/v1/authorization", with(secret, "Idempotent-Key", "auth-pending-01"), fmt.Sprintf(`{"aliasId":%q,"paymentData":{"amount":700,"currency":"EUR","reason":"r"}}`, id))
	if code != 201 || pre["status"] != "PENDING" {
		t.Fatalf("authorization: %d %v", code, pre)
	}
	txn := pre["id"].(string)
	// The event names the charge by the PSP id the transaction recorded.
	item, err := e.Stack.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(e.Tables.Payments),
		Key: dynamo.PKSK(dynamo.Tuple("txn", txn), "#"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	pi := dynamo.StringAttr(item.Item["pspId"])
	event := fmt.Sprintf(`{"id":"evt_settle_1","object":"event","type":"payment_intent.succeeded","livemode":false,"created":%d,"data":{"object":{"id":%q,"object":"payment_intent","amount":700,"currency":"eur","status":"succeeded","metadata":{"tollgate_transaction":%q,"tollgate_merchant":"demo"}}}}`, time.Now().Unix(), pi, txn)
	post := func(sig string) (int, map[string]any) {
		return c.do("POST", "/stripe/webhook/", map[string]string{"Stripe-Signature": sig}, event)
	}
	if code, body := post(stripe.SignWebhook([]byte(event), "whsec_other", time.Now())); code != 400 {
		t.Fatalf("mis-signed: %d %v", code, body)
	}
	if _, tx := c.do("GET", "/api/v1/transactions/"+txn, secret, ""); tx["status"] != "PENDING" {
		t.Fatalf("a refused event changed the transaction: %v", tx)
	}
	for i, want := range []string{"applied", "already-known"} {
		if code, body := post(stripe.SignWebhook([]byte(event), whsec, time.Now())); code != 200 || body["status"] != want {
			t.Fatalf("delivery %d: %d %v, want %s", i, code, body, want)
		}
	}
	if _, tx := c.do("GET", "/api/v1/transactions/"+txn, secret, ""); tx["status"] != "SUCCESS" || tx["capturedAmount"] != 700.0 {
		t.Fatalf("after the event: %v", tx)
	}
	// A signed refund event that does not match the charge it names is
	// recorded and changes nothing: more refunded than captured, another
	// PaymentIntent, another currency.
	refund := func(id, pi, currency string, refunded int64) string {
		return fmt.Sprintf(`{"id":%q,"object":"event","type":"charge.refunded","livemode":false,"created":%d,"data":{"object":{"id":"ch_1","object":"charge","amount":700,"amount_refunded":%d,"currency":%q,"payment_intent":%q,"metadata":{"tollgate_transaction":%q,"tollgate_merchant":"demo"}}}}`,
			id, time.Now().Unix(), refunded, currency, pi, txn)
	}
	for _, tc := range []struct{ name, event, want string }{
		{"more than captured", refund("evt_refund_over", pi, "eur", 5000), "mismatched"},
		{"another PaymentIntent", refund("evt_refund_pi", "pi_someone_else", "eur", 100), "mismatched"},
		{"another currency", refund("evt_refund_cur", pi, "gbp", 100), "mismatched"},
		{"the same again", refund("evt_refund_over", pi, "eur", 5000), "duplicate"},
		{"a matching refund", refund("evt_refund_ok", pi, "eur", 300), "applied"},
	} {
		code, body := c.do("POST", "/stripe/webhook/", map[string]string{"Stripe-Signature": stripe.SignWebhook([]byte(tc.event), whsec, time.Now())}, tc.event)
		if code != 200 || body["status"] != tc.want {
			t.Fatalf("%s: %d %v, want %s", tc.name, code, body, tc.want)
		}
	}
	if _, tx := c.do("GET", "/api/v1/transactions/"+txn, secret, ""); tx["refundedAmount"] != 300.0 {
		t.Fatalf("after the refund events: %v (only the matching 300 is refunded)", tx)
	}
}
