package functions_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stripe/stripe-go/v82/webhook"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
)

// grant is one IAM permission: a DynamoDB action on a table (Resource
// "StoresTable") or on its indexes ("StoresTable/index").
type grant struct{ Action, Resource string }

// dynamoGrants reads the DynamoDB actions each function's policies allow,
// by table logical id.
func dynamoGrants(t *testing.T) map[string]map[grant]bool {
	t.Helper()
	data, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	get := func(n *yaml.Node, key string) *yaml.Node {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
		return nil
	}
	list := func(n *yaml.Node) []*yaml.Node {
		if n == nil {
			return nil
		}
		if n.Kind == yaml.SequenceNode {
			return n.Content
		}
		return []*yaml.Node{n}
	}
	out := map[string]map[grant]bool{}
	resources := get(doc.Content[0], "Resources")
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, fn := resources.Content[i].Value, resources.Content[i+1]
		out[id] = map[grant]bool{}
		for _, pol := range list(get(get(fn, "Properties"), "Policies")) {
			for _, st := range list(get(pol, "Statement")) {
				for _, r := range list(get(st, "Resource")) {
					var res string
					switch r.Tag {
					case "!GetAtt":
						res = strings.TrimSuffix(r.Value, ".Arn")
					case "!Sub":
						if table, ok := strings.CutSuffix(strings.TrimPrefix(r.Value, "${"), ".Arn}/index/*"); ok {
							res = table + "/index"
						}
					}
					for _, a := range list(get(st, "Action")) {
						if action, ok := strings.CutPrefix(a.Value, "dynamodb:"); ok && res != "" {
							out[id][grant{action, res}] = true
						}
					}
				}
			}
		}
	}
	return out
}

// needs records the IAM permissions the DynamoDB calls sent through it
// require: each call's action on its table (a transaction's items' own
// actions, a batch's tables, a query's index).
type needs struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen map[grant]bool
}

func (n *needs) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	op := req.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	var in struct {
		TableName     string
		IndexName     string
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]struct{ TableName string }
	}
	_ = json.Unmarshal(body, &in)
	add := func(action, table string) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.seen[grant{action, table}] = true
	}
	switch {
	case op == "TransactWriteItems":
		kind := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "ConditionCheck": "ConditionCheckItem", "Delete": "DeleteItem"}
		for _, it := range in.TransactItems {
			for k, v := range it {
				add(kind[k], v.TableName)
			}
		}
	case in.RequestItems != nil:
		for table := range in.RequestItems {
			add(op, table)
		}
	case in.IndexName != "":
		add(op, in.TableName+"/index")
	default:
		add(op, in.TableName)
	}
	return n.base.RoundTrip(req)
}

func (n *needs) take() map[grant]bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.seen
	n.seen = map[grant]bool{}
	return out
}

// Each checkout page's function is allowed exactly the DynamoDB access its
// requests use (least privilege, checked both ways): every call of a whole
// purchase is permitted by the serving function's template policy, and
// every DynamoDB permission a page function holds is used.
func TestCheckoutPagesLeastPrivilege(t *testing.T) {
	rec := &needs{base: http.DefaultTransport.(*http.Transport).Clone(), seen: map[grant]bool{}}
	tr := ddbtest.NewTransport()
	tr.Base = &http.Client{Transport: rec}
	site := newPagesSiteWith(t, ddbtest.Backend{Name: "minidyn"}, tr, nil)
	grants := dynamoGrants(t)
	used := map[string]map[grant]bool{}
	c := browserClient(t)
	step := func(fn, method, target string, form url.Values) page {
		t.Helper()
		rec.take()
		p := fetch(t, c, method, target, form)
		if used[fn] == nil {
			used[fn] = map[grant]bool{}
		}
		for g := range rec.take() {
			used[fn][g] = true
			if !grants[fn][g] {
				t.Errorf("%s %s (%s) calls dynamodb:%s on %s, which its policy does not allow", method, target, fn, g.Action, g.Resource)
			}
		}
		return p
	}
	token, _ := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP", "metadata": {"external_reference": "iam-1"}}`)
	cart := step("CheckoutCartFunction", http.MethodGet, site.URL+"/s/my-store/cart/?token="+url.QueryEscape(token), nil)
	toPay := func(cart page, form url.Values) (payURL string, payPage page) {
		form.Set("csrf", csrfOf(t, cart))
		p := step("CheckoutCartFunction", http.MethodPost, site.URL+"/s/my-store/cart/", form)
		expectPage(t, p, http.StatusSeeOther)
		payURL = site.URL + p.Header.Get("Location")
		return payURL, step("CheckoutPayFunction", http.MethodGet, payURL, nil)
	}
	payOrder := func(payURL string, payPage page) page {
		hidden := url.Values{"csrf": {csrfOf(t, payPage)}, "card": {"4242424242424242"}}
		for _, m := range hiddenRE.FindAllStringSubmatch(payPage.Body, -1) {
			hidden.Set(m[1], m[2])
		}
		u, _ := url.Parse(payURL)
		p := step("CheckoutPayFunction", http.MethodPost, site.URL+u.Path, hidden)
		expectPage(t, p, http.StatusSeeOther)
		return step("CheckoutOrderFunction", http.MethodGet, site.URL+p.Header.Get("Location"), nil)
	}
	buy := func(cart page, form url.Values) {
		payURL, payPage := toPay(cart, form)
		expectPage(t, payOrder(payURL, payPage), http.StatusOK, "license-key")
		expectPage(t, step("CheckoutPayFunction", http.MethodGet, payURL, nil), http.StatusSeeOther) // paid: to the order page
	}
	buy(cart, url.Values{"token": {token}, "email": {"iam@example.com"}, "country": {"GB"}})
	// A session paid by two orders: the pay function refunds the second
	// (through the sandbox), within its policy.
	tokenDup, _ := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP"}`)
	cartDup := step("CheckoutCartFunction", http.MethodGet, site.URL+"/s/my-store/cart/?token="+url.QueryEscape(tokenDup), nil)
	firstURL, firstPage := toPay(cartDup, url.Values{"token": {tokenDup}, "email": {"dup1@example.com"}, "country": {"GB"}})
	secondURL, secondPage := toPay(cartDup, url.Values{"token": {tokenDup}, "email": {"dup2@example.com"}, "country": {"GB"}})
	expectPage(t, payOrder(firstURL, firstPage), http.StatusOK, "license-key")
	expectPage(t, payOrder(secondURL, secondPage), http.StatusOK, `data-status="refunded"`, `id="paid-by"`)
	expectPage(t, step("MarketFunction", http.MethodGet, site.URL+"/market/", nil), http.StatusOK)
	expectPage(t, step("CheckoutCartFunction", http.MethodGet, site.URL+"/s/my-store/cart/?add=WIN-11-PRO&currency=GBP&source=marketplace", nil), http.StatusSeeOther)
	buy(step("CheckoutCartFunction", http.MethodGet, site.URL+"/s/my-store/cart/", nil), url.Values{"email": {"iam2@example.com"}, "country": {"US"}, "subdivision": {"CA"}})

	// The Stripe receiver's calls for the checkout's events (success with
	// its session, refund, dispute) must be allowed too. (Its payments
	// permissions serve the payments API's events, so only this direction
	// is checked for it.)
	token2, _ := site.session(t, `{"cart": {"WIN-11-PRO": 1}, "currency": "GBP"}`)
	cart2 := step("CheckoutCartFunction", http.MethodGet, site.URL+"/s/my-store/cart/?token="+url.QueryEscape(token2), nil)
	p := step("CheckoutCartFunction", http.MethodPost, site.URL+"/s/my-store/cart/",
		url.Values{"token": {token2}, "email": {"hook@example.com"}, "country": {"GB"}, "csrf": {csrfOf(t, cart2)}})
	expectPage(t, p, http.StatusSeeOther)
	orderID := strings.Split(strings.TrimPrefix(p.Header.Get("Location"), "/s/my-store/pay/"), "/")[0]
	sessionID, _, _ := strings.Cut(token2, ".")
	meta := map[string]string{"tollgate_store": "my-store", "tollgate_order": orderID, "tollgate_session": sessionID}
	for i, ev := range []struct {
		typ string
		obj map[string]any
	}{
		{"payment_intent.succeeded", map[string]any{"id": "pi_iam", "object": "payment_intent", "amount": 3599, "amount_received": 3599, "currency": "gbp", "status": "succeeded", "metadata": meta}},
		{"charge.refunded", map[string]any{"id": "ch_iam", "object": "charge", "amount_refunded": 1000, "currency": "gbp", "payment_intent": "pi_iam", "metadata": meta}},
		{"charge.dispute.created", map[string]any{"id": "dp_iam", "object": "dispute", "amount": 2599, "currency": "gbp", "payment_intent": "pi_iam", "status": "needs_response", "metadata": meta}},
	} {
		body, err := json.Marshal(map[string]any{"id": fmt.Sprintf("evt_iam_%d", i), "object": "event", "type": ev.typ, "livemode": false,
			"created": site.now().Unix(), "data": map[string]any{"object": ev.obj}})
		if err != nil {
			t.Fatal(err)
		}
		sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: pagesWebhookSecret, Timestamp: site.now()}).Header
		rec.take()
		req, _ := http.NewRequest(http.MethodPost, site.URL+"/stripe/webhook/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), `"applied"`) {
			t.Fatalf("%s: %d %s", ev.typ, resp.StatusCode, answer)
		}
		for g := range rec.take() {
			if !grants["StripeWebhookFunction"][g] {
				t.Errorf("the Stripe receiver (%s) calls dynamodb:%s on %s, which its policy does not allow", ev.typ, g.Action, g.Resource)
			}
		}
	}

	for _, fn := range []string{"CheckoutCartFunction", "CheckoutPayFunction", "CheckoutOrderFunction", "MarketFunction"} {
		var unused []string
		for g := range grants[fn] {
			if !used[fn][g] {
				unused = append(unused, g.Action+" on "+g.Resource)
			}
		}
		sort.Strings(unused)
		if len(unused) > 0 {
			t.Errorf("%s is allowed %v, which no request used", fn, unused)
		}
	}
}
