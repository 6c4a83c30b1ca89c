package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

const webhookSecret = "flow-webhook-secret"

func newWebhookFlow(t *testing.T, b ddbtest.Backend, env map[string]string) *flow {
	t.Helper()
	c := newClock()
	vars := map[string]string{
		"STASH_EGRESS_KEY": egressKey, "STASH_WEBHOOK_SECRET": webhookSecret, "GAME_SERVER_KEY": flowGame,
		"CATALOG_CACHE_TTL": "1h",
	}
	for k, v := range env {
		vars[k] = v
	}
	stack := ddbtest.NewStack(t, b, ddbtest.StackOptions{Env: vars, Now: c.Now, Catalog: []byte(flowCatalog)})
	router := ddbtest.Router(t, stack)
	return &flow{t: t, stack: stack, router: router, clock: c}
}

func (f *flow) webhook(body string, headers ...string) (int, string) {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/webhooks/stash", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(auth.HeaderStashWebhookSignature, auth.SignStashLegacy([]byte(webhookSecret), []byte(body)))
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	rec := httptest.NewRecorder()
	f.router.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func succeeded(order, player, shape string, items ...any) string {
	var lines []string
	for i := 0; i+1 < len(items); i += 2 {
		lines = append(lines, fmt.Sprintf(`{"id":%q,"quantity":%d,"price":"199"}`, items[i], items[i+1]))
	}
	data := fmt.Sprintf(`{"timeMillis":"1795262400000","orderId":%q,"checkoutLinkId":"cl","currency":"usd","userId":%q,"items":[%s],"tax":0,"total":"398","source":"StashPay"}`,
		order, player, strings.Join(lines, ","))
	return fmt.Sprintf(`{"type":"PURCHASE_SUCCEEDED","environment":"test",%q:%s}`, shape, data)
}

func refunded(order, refundID string, items ...any) string {
	var lines []string
	for i := 0; i+1 < len(items); i += 2 {
		lines = append(lines, fmt.Sprintf(`{"id":%q,"quantity":%d}`, items[i], items[i+1]))
	}
	data := fmt.Sprintf(`{"orderId":%q,"userId":"whoever","refundId":%q`, order, refundID)
	if len(lines) > 0 {
		data += `,"items":[` + strings.Join(lines, ",") + `]`
	}
	return `{"type":"PURCHASE_REFUNDED","environment":"test","eventData":` + data + `}}`
}

func (f *flow) holdings(player string) (map[string]int64, map[string]int64) {
	f.t.Helper()
	items, debts, err := players.Holdings(context.Background(), f.stack.DB, f.stack.TableName("PlayersTable"), player)
	if err != nil {
		f.t.Fatal(err)
	}
	toMap := func(l []players.Item) map[string]int64 {
		m := map[string]int64{}
		for _, it := range l {
			m[it.ProductID] = it.Quantity
		}
		return m
	}
	return toMap(items), toMap(debts)
}

// spend takes n units of product from player's inventory, as the game
// does when they are used.
func (f *flow) spend(player, product string, n int) {
	f.t.Helper()
	if _, err := f.stack.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:                 aws.String(f.stack.TableName("PlayersTable")),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: player}, "sk": &types.AttributeValueMemberS{Value: "item#" + product}},
		UpdateExpression:          aws.String("ADD #q :n"),
		ExpressionAttributeNames:  map[string]string{"#q": "quantity"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: strconv.Itoa(-n)}},
	}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *flow) deliveries() []map[string]string {
	f.t.Helper()
	out, err := f.stack.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.stack.TableName("TransactionsTable")), ConsistentRead: aws.Bool(true)})
	if err != nil {
		f.t.Fatal(err)
	}
	var ds []map[string]string
	for _, item := range out.Items {
		if k, _ := item["kind"].(*types.AttributeValueMemberS); k == nil || k.Value != "webhook-delivery" {
			continue
		}
		d := map[string]string{}
		for _, a := range []string{"type", "outcome", "orderId", "environment", "retryCount", "expiresAt"} {
			switch v := item[a].(type) {
			case *types.AttributeValueMemberS:
				d[a] = v.Value
			case *types.AttributeValueMemberN:
				d[a] = v.Value
			}
		}
		if _, ok := item["rawBody"]; ok {
			d["rawBody"] = "yes"
		}
		ds = append(ds, d)
	}
	return ds
}

// 50 concurrent deliveries of one PURCHASE_SUCCEEDED: all answered 200, one
// grant.
func TestWebhookConcurrentDeliveriesGrantOnce(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newWebhookFlow(t, b, nil)
		body := succeeded("order-1", "nina", "eventData", "gem_pack", 2, "bundle", 1)
		const n = 50
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], _ = f.webhook(body, "stash-retry-count", fmt.Sprint(i%6))
			}()
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusOK {
				t.Fatalf("delivery %d answered %d", i, c)
			}
		}
		if got, _ := f.holdings("nina"); got["gem_pack"] != 2 || got["bundle"] != 1 {
			t.Fatalf("inventory %v: granted more or less than once", got)
		}
		f.assertStock("bundle", 9, 0, 1)
		outcomes := map[string]int{}
		for _, d := range f.deliveries() {
			outcomes[d["outcome"]]++
			if d["expiresAt"] == "" || d["type"] != "PURCHASE_SUCCEEDED" || d["orderId"] != "order-1" {
				t.Fatalf("delivery record %v", d)
			}
		}
		if outcomes["granted"] != 1 || outcomes["duplicate"] != n-1 {
			t.Fatalf("recorded outcomes %v, want 1 granted and %d duplicates", outcomes, n-1)
		}
	})
}

func TestWebhookRefunds(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newWebhookFlow(t, b, nil)
		mustOK := func(body string) string {
			t.Helper()
			code, resp := f.webhook(body)
			if code != http.StatusOK {
				t.Fatalf("%d %s", code, resp)
			}
			return resp
		}
		mustOK(succeeded("order-1", "olga", "purchaseSucceeded", "gem_pack", 3, "bundle", 1))
		// A partial refund revokes the refunded items only, once.
		if r := mustOK(refunded("order-1", "re-1", "gem_pack", 1)); !strings.Contains(r, "refund:revoked") {
			t.Fatal(r)
		}
		if r := mustOK(refunded("order-1", "re-1", "gem_pack", 1)); !strings.Contains(r, "duplicate") {
			t.Fatalf("the same refund twice: %s", r)
		}
		if items, _ := f.holdings("olga"); items["gem_pack"] != 2 || items["bundle"] != 1 {
			t.Fatalf("after a partial refund: %v", items)
		}
		// The player spends a gem; a refund of more than is left is capped
		// at what was granted, and what was spent becomes a debt.
		f.spend("olga", "gem_pack", 1)
		mustOK(refunded("order-1", "re-2", "gem_pack", 5))
		items, debts := f.holdings("olga")
		if items["gem_pack"] != 0 || debts["gem_pack"] != 1 || items["bundle"] != 1 {
			t.Fatalf("after refunding the rest: items %v debts %v", items, debts)
		}
		// A full refund takes what is left; nothing more after that.
		mustOK(refunded("order-1", "re-3"))
		mustOK(refunded("order-1", "re-4"))
		items, debts = f.holdings("olga")
		if len(items) != 0 || debts["gem_pack"] != 1 || len(debts) != 1 {
			t.Fatalf("after the full refund: items %v debts %v", items, debts)
		}
		// The inventory endpoint shows the debt to the game.
		req := httptest.NewRequest(http.MethodGet, "/api/v1/players/olga/inventory", nil)
		req.Header.Set("Authorization", "Bearer "+flowGame)
		rec := httptest.NewRecorder()
		f.router.ServeHTTP(rec, req)
		if want := `{"playerId":"olga","items":[],"debts":[{"productId":"gem_pack","quantity":1}]}`; strings.TrimSpace(rec.Body.String()) != want {
			t.Fatalf("inventory answer %s, want %s", rec.Body, want)
		}

		// A refund before the purchase: nothing is granted later, by the
		// webhook or by the confirm call.
		mustOK(refunded("order-2", "re-5"))
		if r := mustOK(succeeded("order-2", "pete", "eventData", "gem_pack", 1)); !strings.Contains(r, "not-granted") {
			t.Fatalf("purchase after its refund: %s", r)
		}
		if code, _ := f.confirm("order-2", "pete", "", "gem_pack", 199, 1); code != http.StatusConflict {
			t.Fatalf("confirm after the refund: %d", code)
		}
		if items, _ := f.holdings("pete"); len(items) != 0 {
			t.Fatalf("pete was granted %v for a refunded order", items)
		}
	})
}

// A refund of an item the player has spent entirely finds nothing to take:
// the webhook function asserts (a ConditionCheck on the players table, which
// its role must allow) that none is held and records the debt.
func TestWebhookRefundOfSpentItem(t *testing.T) {
	f := newWebhookFlow(t, ddbtest.Backend{Name: "minidyn"}, nil)
	if code, resp := f.webhook(succeeded("order-spent", "sam", "purchaseSucceeded", "gem_pack", 2)); code != http.StatusOK {
		t.Fatalf("purchase: %d %s", code, resp)
	}
	f.spend("sam", "gem_pack", 2)
	if code, resp := f.webhook(refunded("order-spent", "re-spent", "gem_pack", 2)); code != http.StatusOK || !strings.Contains(resp, "refund:revoked") {
		t.Fatalf("refund of a spent item: %d %s", code, resp)
	}
	if items, debts := f.holdings("sam"); len(items) != 0 || debts["gem_pack"] != 2 {
		t.Fatalf("after the refund: items %v debts %v, want a debt of 2", items, debts)
	}
}

// A paid purchase the webhook cannot honour for stock (nothing reserved,
// more than is left) is refused without a grant; the function re-reads the
// product to tell a sell-out from a stale catalog.
func TestWebhookPurchaseOfMoreThanInStock(t *testing.T) {
	f := newWebhookFlow(t, ddbtest.Backend{Name: "minidyn"}, nil)
	if code, resp := f.webhook(succeeded("order-many", "max", "purchaseSucceeded", "bundle", 11)); code != http.StatusOK || !strings.Contains(resp, `"not-granted"`) {
		t.Fatalf("%d %s, want 200 not-granted", code, resp)
	}
	if items, _ := f.holdings("max"); len(items) != 0 {
		t.Fatalf("granted %v of a sold-out purchase", items)
	}
	f.assertStock("bundle", 10, 0, 0)
}

// With confirm and webhook both granting, a purchase is granted once,
// whichever arrives first; the transactionId and the orderId are the same
// purchase.
func TestWebhookAndConfirmGrantOnce(t *testing.T) {
	eachFlowBackend(t, func(t *testing.T, b ddbtest.Backend) {
		f := newWebhookFlow(t, b, map[string]string{"GRANT_MODE": "both"})
		// Register, confirm, then the webhook.
		f.register("tx-1", "quinn", "gem_pack", 199, 2)
		if code, body := f.confirm("tx-1", "quinn", `,"bonusItems":[{"id":"coin","quantity":5}]`, "gem_pack", 199, 2); code != 200 {
			t.Fatalf("confirm %d %s", code, body)
		}
		if code, body := f.webhook(succeeded("tx-1", "quinn", "eventData", "gem_pack", 2)); code != 200 || !strings.Contains(body, "duplicate") {
			t.Fatalf("webhook after confirm: %d %s", code, body)
		}
		if items, _ := f.holdings("quinn"); items["gem_pack"] != 2 || items["coin"] != 5 {
			t.Fatalf("inventory %v", items)
		}
		// The webhook first, then register and confirm.
		if code, body := f.webhook(succeeded("tx-2", "rosa", "eventData", "bundle", 1)); code != 200 || !strings.Contains(body, "granted") {
			t.Fatalf("webhook: %d %s", code, body)
		}
		if code, body := f.confirm("tx-2", "rosa", "", "bundle", 999, 1); code != 200 {
			t.Fatalf("confirm after the webhook: %d %s", code, body)
		}
		if items, _ := f.holdings("rosa"); items["bundle"] != 1 {
			t.Fatalf("inventory %v", items)
		}
		f.assertStock("bundle", 9, 0, 1)
	})
}

func TestWebhookDeliveries(t *testing.T) {
	f := newWebhookFlow(t, ddbtest.Backend{Name: "minidyn"}, nil)
	good := succeeded("order-9", "sam", "eventData", "gem_pack", 1)
	cases := []struct {
		name    string
		body    string
		headers []string
		code    int
		outcome string
	}{
		{"no signature", good, []string{auth.HeaderStashWebhookSignature, ""}, 401, ""},
		{"signed with the egress key", good, []string{auth.HeaderStashWebhookSignature, auth.SignStashLegacy([]byte(egressKey), []byte(good))}, 401, ""},
		{"body altered", good + " ", []string{auth.HeaderStashWebhookSignature, auth.SignStashLegacy([]byte(webhookSecret), []byte(good))}, 401, ""},
		{"not JSON", "{oops", nil, 400, "rejected"},
		{"no type", `{"environment":"test","eventData":{}}`, nil, 400, "rejected"},
		{"purchase without orderId", `{"type":"PURCHASE_SUCCEEDED","eventData":{"userId":"sam","currency":"USD","items":[{"id":"gem_pack","quantity":1}]}}`, nil, 400, "rejected"},
		{"purchase without data", `{"type":"PURCHASE_SUCCEEDED","environment":"test"}`, nil, 400, "rejected"},
		{"production event on a test deployment", strings.Replace(good, `"environment":"test"`, `"environment":"production"`, 1), nil, 200, "ignored-environment"},
		{"other v1 type", `{"type":"CREATE_PAYMENT_INTENT","environment":"test","eventData":{"orderId":"x"}}`, nil, 200, "acknowledged"},
		{"v2 event", `{"type":"subscription.created","data":{"id":"sub_1"}}`, nil, 200, "acknowledged"},
		{"unknown product", succeeded("order-10", "sam", "eventData", "no_such", 1), nil, 200, "not-granted"},
		{"granted", good, nil, 200, "granted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(f.deliveries())
			code, body := f.webhook(c.body, c.headers...)
			if code != c.code {
				t.Fatalf("%d %s, want %d", code, body, c.code)
			}
			ds := f.deliveries()
			if c.outcome == "" {
				if len(ds) != before {
					t.Fatalf("an unauthenticated delivery was recorded")
				}
				return
			}
			if len(ds) != before+1 {
				t.Fatalf("%d deliveries recorded, want %d", len(ds), before+1)
			}
			found := false
			for _, d := range ds {
				if d["outcome"] == c.outcome {
					found = true
					if (c.code != 200) != (d["rawBody"] == "yes") {
						t.Fatalf("raw body kept %q for outcome %s", d["rawBody"], c.outcome)
					}
				}
			}
			if !found {
				t.Fatalf("no delivery recorded with outcome %s: %v", c.outcome, ds)
			}
		})
	}
	if items, _ := f.holdings("sam"); items["gem_pack"] != 1 {
		t.Fatalf("sam holds %v", items)
	}
}

func TestWebhookGrantModeConfirm(t *testing.T) {
	f := newWebhookFlow(t, ddbtest.Backend{Name: "minidyn"}, map[string]string{"GRANT_MODE": "confirm"})
	if code, body := f.webhook(succeeded("order-1", "tom", "eventData", "gem_pack", 1)); code != 200 || !strings.Contains(body, "recorded") {
		t.Fatalf("%d %s", code, body)
	}
	if items, _ := f.holdings("tom"); len(items) != 0 {
		t.Fatalf("GRANT_MODE=confirm granted from the webhook: %v", items)
	}
	var resp map[string]string
	_, body := f.webhook(`{"type":"VIEW_ITEM","environment":"test","viewItem":{"itemId":"x"}}`)
	if err := json.Unmarshal([]byte(body), &resp); err != nil || resp["status"] != "acknowledged" {
		t.Fatalf("answer %s", body)
	}
}
