package functions_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/dev/logtest"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
)

// accessLines are the access-log lines ("msg":"request") among lines.
func accessLines(lines []map[string]any) []map[string]any {
	var out []map[string]any
	for _, m := range lines {
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// roundTrip is one request whose DynamoDB calls are counted.
type roundTrip struct {
	endpoint string
	step     string
	method   string
	path     string
	body     string
	header   string // how it is authenticated: stash, webhook, apiKey, bearer, bearerJSON, signedGet
	status   int
	// DynamoDB calls promised: on DynamoDB (moto behaves the same) and on
	// minidyn.
	want, wantMinidyn int
	note              string // what the calls are
	// fault, when set, fails the request's first DynamoDB call (the SDK
	// retries it: every attempt counts); such a case runs on minidyn only
	// (the SDK's retry back-off costs up to 2s).
	fault ddbtest.Fault
	// function is the template logical id serving the route; the case is
	// skipped (shown as "-") when the template does not have it.
	function string
}

// TestDynamoDBRoundTrips asserts, per endpoint, how many DynamoDB calls a
// request makes on the happy path and on a replay, as the access log line
// reports them ("dynamodbCalls", counted by the SDK middleware of
// dynamo.NewClient) and as the wire sees them (ddbtest.Transport): both must
// agree with the promise. It runs every function's real handler through the
// local router on embedded minidyn, and on moto_server when it is installed,
// and logs the table (`make bench` prints it).
//
// The backends differ on one point: a transaction whose Put condition fails
// with ReturnValuesOnConditionCheckFailure=ALL_OLD gets the stored item back
// from DynamoDB and moto, so a replay of register or authorize is answered
// from that one call; minidyn returns no item for a Put (it does for an
// Update), so there the record is read back with a GetItem: two calls.
func TestDynamoDBRoundTrips(t *testing.T) {
	cases := roundTripCases()
	got := map[string][]string{} // backend -> per case: "n" or "-"
	var backends []string
	for _, b := range ddbtest.Backends(t) {
		backends = append(backends, b.Name)
		got[b.Name] = runRoundTrips(t, b, cases)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "DynamoDB round trips per request (the access log's dynamodbCalls; every handler through the local router):\n")
	fmt.Fprintf(&table, "%-27s %-22s %8s", "endpoint", "case", "promised")
	for _, b := range backends {
		fmt.Fprintf(&table, " %8s", b)
	}
	fmt.Fprintf(&table, "  %s\n", "calls (DynamoDB and moto) / why")
	for i, rt := range cases {
		promised := fmt.Sprint(rt.want)
		if rt.wantMinidyn != rt.want {
			promised = fmt.Sprintf("%d (%d)", rt.want, rt.wantMinidyn)
		}
		fmt.Fprintf(&table, "%-27s %-22s %8s", rt.endpoint, rt.step, promised)
		for _, b := range backends {
			fmt.Fprintf(&table, " %8s", got[b][i])
		}
		fmt.Fprintf(&table, "  %s\n", rt.note)
	}
	fmt.Fprintf(&table, "promised: on DynamoDB (and moto); in parentheses where minidyn differs.\n")
	t.Log("\n" + table.String())
}

func roundTripCases() []roundTrip {
	const (
		reg     = "/api/v1/purchase/register"
		conf    = "/api/v1/purchase/confirm"
		canc    = "/api/v1/purchase/cancel"
		hook    = "/api/v1/webhooks/stash"
		replay  = "TransactWriteItems meets the record and returns it (ALL_OLD): the recorded answer"
		replayP = "TransactWriteItems meets the record; it comes back with the failure (minidyn: read back, +GetItem)"
	)
	authorizeBody := `{"transactionId":"rt-auth","items":[{"id":"gem_pack","quantity":2}]}`
	return []roundTrip{
		{endpoint: "register", step: "new", path: reg, body: registerBody("rt-1", "rita", "gem_pack", 199, 2, "bundle", 999, 1), header: "stash",
			status: 200, want: 1, wantMinidyn: 1, note: "TransactWriteItems: record + reservations + per-player counts"},
		{endpoint: "register", step: "replay", path: reg, body: registerBody("rt-1", "rita", "gem_pack", 199, 2, "bundle", 999, 1), header: "stash",
			status: 200, want: 1, wantMinidyn: 2, note: replayP},
		{endpoint: "confirm", step: "registered", path: conf, body: itemsBody("confirm", "rt-1", "rita", "", "gem_pack", 199, 2, "bundle", 999, 1), header: "stash",
			status: 200, want: 1, wantMinidyn: 1, note: "TransactWriteItems: REGISTERED->CONFIRMED + sales + grants"},
		{endpoint: "confirm", step: "replay", path: conf, body: itemsBody("confirm", "rt-1", "rita", "", "gem_pack", 199, 2, "bundle", 999, 1), header: "stash",
			status: 200, want: 1, wantMinidyn: 1, note: replay},
		{endpoint: "confirm", step: "never registered", path: conf, body: itemsBody("confirm", "rt-unreg", "rita", "", "gem_pack", 199, 1), header: "stash",
			status: 200, want: 3, wantMinidyn: 3, note: "TransactWriteItems (no live registration) + GetItem (no record) + TransactWriteItems reserving, selling, granting"},
		{endpoint: "register", step: "(setup for cancel)", path: reg, body: registerBody("rt-2", "rita", "bundle", 999, 2), header: "stash",
			status: 200, want: 1, wantMinidyn: 1, note: "as register/new"},
		{endpoint: "cancel", step: "registered", path: canc, body: itemsBody("cancel", "rt-2", "rita", "", "bundle", 999, 2), header: "stash",
			status: 200, want: 1, wantMinidyn: 1, note: "TransactWriteItems: REGISTERED->CANCELLED + stock and counts given back"},
		{endpoint: "cancel", step: "replay", path: canc, body: itemsBody("cancel", "rt-2", "rita", "", "bundle", 999, 2), header: "stash",
			status: 200, want: 1, wantMinidyn: 1, note: replay},
		{endpoint: "authorize", step: "new", method: http.MethodPost, path: "/purchase/rita", body: authorizeBody, header: "apiKey",
			status: 200, want: 1, wantMinidyn: 1, note: "TransactWriteItems: record + grants"},
		{endpoint: "authorize", step: "replay", method: http.MethodPost, path: "/purchase/rita", body: authorizeBody, header: "apiKey",
			status: 200, want: 1, wantMinidyn: 2, note: replayP},
		{endpoint: "webhook PURCHASE_SUCCEEDED", step: "order not registered", path: hook, body: succeeded("rt-order-1", "rita", "eventData", "gem_pack", 2), header: "webhook",
			status: 200, want: 4, wantMinidyn: 4, note: "as confirm/never registered (3) + PutItem of the delivery record"},
		{endpoint: "webhook PURCHASE_SUCCEEDED", step: "duplicate delivery", path: hook, body: succeeded("rt-order-1", "rita", "eventData", "gem_pack", 2), header: "webhook",
			status: 200, want: 2, wantMinidyn: 2, note: "as confirm/replay (1) + PutItem of the delivery record"},
		{endpoint: "register", step: "(setup for webhook)", path: reg, body: registerBody("rt-order-2", "rita", "gem_pack", 199, 1), header: "stash",
			status: 200, want: 1, wantMinidyn: 1, note: "as register/new"},
		{endpoint: "webhook PURCHASE_SUCCEEDED", step: "order registered", path: hook, body: succeeded("rt-order-2", "rita", "eventData", "gem_pack", 1), header: "webhook",
			status: 200, want: 2, wantMinidyn: 2, note: "as confirm/registered (1) + PutItem of the delivery record"},
		{endpoint: "inventory", step: "read", method: http.MethodGet, path: "/api/v1/players/rita/inventory", header: "bearer",
			status: 200, want: 1, wantMinidyn: 1, note: "Query of the player's rows"},
		// Stash's lookups; a case whose function a template lacks is skipped.
		{endpoint: "catalog", step: "warm, no player", method: http.MethodGet, path: "/api/v1/catalog", header: "signedGet", function: "CatalogFunction",
			status: 200, want: 0, wantMinidyn: 0, note: "served from the warm catalog cache"},
		{endpoint: "catalog", step: "warm, with player", method: http.MethodGet, path: "/api/v1/catalog?playerId=rita", header: "signedGet", function: "CatalogFunction",
			status: 200, want: 1, wantMinidyn: 1, note: "Query of the player's purchase counts"},
		{endpoint: "catalog/offer", step: "warm", method: http.MethodGet, path: "/api/v1/catalog/offer?productId=gem_pack&playerId=rita", header: "signedGet", function: "OfferFunction",
			status: 200, want: 0, wantMinidyn: 0, note: "served from the warm catalog cache"},
		{endpoint: "players profile PUT", step: "store", method: http.MethodPut, path: "/api/v1/players/rita", body: `{"name":"Rita","language":"en","inGameLevel":3}`, header: "bearerJSON", function: "PlayerProfileFunction",
			status: 200, want: 1, wantMinidyn: 1, note: "PutItem of the profile"},
		{endpoint: "player", step: "read", method: http.MethodGet, path: "/api/v1/player?playerId=rita", header: "signedGet", function: "PlayerFunction",
			status: 200, want: 1, wantMinidyn: 1, note: "GetItem of the profile"},
		{endpoint: "authorize", step: "500, SDK retry", method: http.MethodPost, path: "/purchase/rita", body: `{"transactionId":"rt-auth-retry","items":[{"id":"gem_pack","quantity":1}]}`, header: "apiKey",
			fault: ddbtest.Fail500, status: 200, want: 2, wantMinidyn: 2, note: "the first TransactWriteItems answered 500, the SDK's retry applied it: both attempts count"},
	}
}

// runRoundTrips runs cases in order on a fresh stack on backend b and
// returns the calls counted per case ("-" for a case skipped).
func runRoundTrips(t *testing.T, b ddbtest.Backend, cases []roundTrip) []string {
	t.Helper()
	c := newClock()
	logs := &logtest.Buffer{}
	tr := ddbtest.NewTransport()
	env := map[string]string{
		"STASH_EGRESS_KEY": egressKey, "STASH_WEBHOOK_SECRET": webhookSecret, "GAME_SERVER_KEY": flowGame,
		"STASH_API_KEY": "k", "CATALOG_CACHE_TTL": "1h",
	}
	cfg := localenv.Config{
		Endpoint:   b.Endpoint,
		Getenv:     func(k string) string { return env[k] },
		Logger:     deps.NewLogger(logs, "info"),
		HTTPClient: tr,
		Now:        c.Now,
		Catalog:    []byte(flowCatalog),
	}
	if b.Endpoint != "" {
		cfg.TablePrefix = fmt.Sprintf("roundtrips-%d-", time.Now().UnixNano()) // moto outlives the test
	}
	cfg.Guard = ddbtest.Guard(t, cfg.TablePrefix)
	stack, err := localenv.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	router := ddbtest.Router(t, stack)
	gets := 0
	headers := map[string]func(h http.Header, body string){
		"stash": func(h http.Header, body string) {
			h.Set("Content-Type", "application/json")
			h.Set(auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", c.Now(), []byte(body)))
		},
		"webhook": func(h http.Header, body string) {
			h.Set("Content-Type", "application/json")
			h.Set(auth.HeaderStashWebhookSignature, auth.SignStashLegacy([]byte(webhookSecret), []byte(body)))
		},
		"apiKey": func(h http.Header, _ string) {
			h.Set("Content-Type", "application/json")
			h.Set("x-api-key", "k")
		},
		"bearer": func(h http.Header, _ string) { h.Set("Authorization", "Bearer "+flowGame) },
		"bearerJSON": func(h http.Header, _ string) {
			h.Set("Authorization", "Bearer "+flowGame)
			h.Set("Content-Type", "application/json")
		},
		"signedGet": func(h http.Header, _ string) {
			// Each at its own millisecond: a lookup's v1 signature is
			// refused for another query (stashhttp.HandleQuery).
			gets++
			h.Set(auth.HeaderStashSignature, auth.SignStashV1([]byte(egressKey), "shop-1", c.Now().Add(time.Duration(gets)*time.Millisecond), nil))
		},
	}

	logs.Take() // start-up lines
	out := make([]string, len(cases))
	for i, rt := range cases {
		out[i] = "-"
		if rt.function != "" {
			if _, ok := stack.Template.Functions[rt.function]; !ok {
				continue // not in this template
			}
		}
		if rt.fault != ddbtest.NoFault && b.Endpoint != "" {
			continue // minidyn only
		}
		method := rt.method
		if method == "" {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, rt.path, strings.NewReader(rt.body))
		headers[rt.header](req.Header, rt.body)
		rec := httptest.NewRecorder()
		tr.Reset()
		if rt.fault != ddbtest.NoFault {
			tr.Inject(func(call int, _ string) ddbtest.Fault {
				if call == 1 {
					return rt.fault
				}
				return ddbtest.NoFault
			})
		}
		router.ServeHTTP(rec, req)
		tr.Inject(nil)
		if rec.Code != rt.status {
			t.Fatalf("%s: %s %s: %d %s, want %d", b.Name, rt.endpoint, rt.step, rec.Code, rec.Body, rt.status)
		}
		lines := accessLines(logs.TakeLines(t))
		if len(lines) != 1 {
			t.Fatalf("%s: %s %s: %d access-log lines, want 1", b.Name, rt.endpoint, rt.step, len(lines))
		}
		logged, ok := lines[0]["dynamodbCalls"].(float64)
		if !ok {
			t.Fatalf("%s: %s %s: access-log line has no dynamodbCalls: %v", b.Name, rt.endpoint, rt.step, lines[0])
		}
		wire := tr.Calls()
		out[i] = fmt.Sprint(int(logged))
		if int(logged) != len(wire) {
			t.Errorf("%s: %s %s: the log says %d DynamoDB calls, the wire saw %d (%v)", b.Name, rt.endpoint, rt.step, int(logged), len(wire), wire)
		}
		want := rt.want
		if b.Endpoint == "" {
			want = rt.wantMinidyn
		}
		if int(logged) != want {
			t.Errorf("%s: %s %s: %d DynamoDB calls (%s), promised %d", b.Name, rt.endpoint, rt.step, int(logged), strings.Join(wire, "+"), want)
		}
	}
	return out
}
