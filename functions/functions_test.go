package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/contract"
	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/deployrehearsal"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// TestMain runs the suite and then, after a whole run, fails on every
// permission of a function's role that no test used (iam_test.go).
func TestMain(m *testing.M) {
	code := ddbtest.Main(m)
	if code == 0 && wholeRun() {
		code = reportUnusedPermissions(os.Stderr)
	}
	os.Exit(code)
}

type fixture struct {
	Function string `json:"function"`
	Status   int    `json:"status"`
	About    string `json:"about"`
}

func loadTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func loadFixtures(t *testing.T) map[string]fixture {
	t.Helper()
	data, err := os.ReadFile("../events/fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx map[string]fixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatalf("events/fixtures.json: %v", err)
	}
	return fx
}

func loadEnvJSON(t *testing.T) map[string]map[string]string {
	t.Helper()
	data, err := os.ReadFile("../events/env.json")
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatalf("events/env.json: %v", err)
	}
	return env
}

// Every function in template.yaml has its folder with a main.go, its
// build-<LogicalId> target, a fixture, an env.json section and a local route
// (a registered handler); nothing exists for a function the template lacks.
func TestEveryFunctionIsComplete(t *testing.T) {
	tmpl := loadTemplate(t)
	targets, err := deployrehearsal.Targets(context.Background(), "..", tmpl.FunctionIDs()) // logical id -> folder
	if err != nil {
		t.Fatal(err)
	}
	fixtures := loadFixtures(t)
	env := loadEnvJSON(t)
	withFixture := map[string]bool{}
	for _, f := range fixtures {
		withFixture[f.Function] = true
	}
	if len(tmpl.Functions) == 0 {
		t.Fatal("template has no functions")
	}
	for _, id := range tmpl.FunctionIDs() {
		fn := tmpl.Functions[id]
		t.Run(id, func(t *testing.T) {
			if fn.BuildMethod != "makefile" || fn.CodeURI != "." {
				t.Errorf("Metadata.BuildMethod = %q, CodeUri = %q; want makefile and .", fn.BuildMethod, fn.CodeURI)
			}
			if dir := targets[id]; filepath.Base(dir) != strings.ToLower(strings.TrimSuffix(id, "Function")) {
				t.Errorf("make build-%s builds %s; want functions/<product>/%s", id, dir, strings.ToLower(strings.TrimSuffix(id, "Function")))
			}
			_, handler := functions.Constructors[id]
			_, job := functions.Jobs[id]
			switch {
			case len(fn.Routes) > 0 && !handler:
				t.Errorf("routes %v but no handler in functions.Constructors, so no local route", fn.Routes)
			case len(fn.Schedules) > 0 && !job:
				t.Errorf("schedule %v but no job in functions.Jobs, so the runner cannot run it", fn.Schedules)
			case len(fn.Routes) == 0 && len(fn.Schedules) == 0 && len(fn.Streams) == 0:
				t.Errorf("no HttpApi route, no schedule and no stream")
			case len(fn.Routes) > 0 && len(fn.Schedules) > 0:
				t.Errorf("both routes and a schedule")
			}
			if _, stream := functions.Streams[id]; stream != (len(fn.Streams) > 0) {
				t.Errorf("fed by the streams of %v, but stream work registered in functions.Streams: %v", fn.Streams, stream)
			}
			if !withFixture[id] {
				t.Errorf("no fixture in events/fixtures.json")
			}
			if _, ok := env[id]; !ok {
				t.Errorf("no section in events/env.json")
			}
		})
	}
	for id := range functions.Constructors {
		if _, ok := tmpl.Functions[id]; !ok {
			t.Errorf("handler %s registered but not in template.yaml", id)
		}
	}
	for id := range functions.Jobs {
		if _, ok := tmpl.Functions[id]; !ok {
			t.Errorf("job %s registered but not in template.yaml", id)
		}
	}
	mains, _ := filepath.Glob("*/*/main.go")
	built := map[string]bool{}
	for _, dir := range targets {
		built[dir] = true
	}
	for _, m := range mains {
		if dir := "functions/" + filepath.ToSlash(filepath.Dir(m)); !built[dir] {
			t.Errorf("%s is the function of no logical id of template.yaml", dir)
		}
	}
	files, _ := filepath.Glob("../events/*.json")
	for _, f := range files {
		name := filepath.Base(f)
		if name == "env.json" || name == "fixtures.json" {
			continue
		}
		if _, ok := fixtures[name]; !ok {
			t.Errorf("events/%s is not described in events/fixtures.json", name)
		}
	}
}

// Every fixture, run through its function's Lambda entry with the
// environment events/env.json gives it, answers the status it documents.
func TestFixtures(t *testing.T) {
	fixtures := loadFixtures(t)
	env := loadEnvJSON(t)
	names := make([]string, 0, len(fixtures))
	for n := range fixtures {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		fx := fixtures[name]
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{}
			for k, v := range env["Parameters"] {
				vars[k] = v
			}
			for k, v := range env[fx.Function] {
				vars[k] = v
			}
			delete(vars, "DYNAMODB_ENDPOINT") // the test's own emulator
			event, err := os.ReadFile(filepath.Join("../events", name))
			if err != nil {
				t.Fatal(err)
			}
			// Signed fixtures are checked at the moment they were signed.
			now := signedAt(t, event)
			stack := ddbtest.NewStack(t, ddbtest.Backend{Name: "minidyn"}, ddbtest.StackOptions{
				Env: vars, Catalog: catalog.Sample, Stores: stores.Sample, Now: func() time.Time { return now },
			})
			if _, isStream := functions.Streams[fx.Function]; isStream && lambdarun.IsStreamEvent(event) {
				if err := stack.InvokeStream(context.Background(), fx.Function, functions.Streams, event); err != nil {
					t.Fatalf("stream batch failed: %v", err)
				}
				return
			}
			if _, isJob := functions.Jobs[fx.Function]; isJob {
				if err := stack.InvokeJob(context.Background(), fx.Function, functions.Jobs, event); err != nil {
					t.Fatalf("job failed: %v", err)
				}
				return
			}
			checkEventIsAPIGateways(t, stack, event)
			for run := 1; run <= 2; run++ { // the second run is a replay
				resp, err := stack.Invoke(context.Background(), fx.Function, functions.Constructors, event)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != fx.Status {
					t.Fatalf("run %d: status %d (%s), fixture documents %d", run, resp.StatusCode, resp.Body, fx.Status)
				}
				if ct := resp.Headers["Content-Type"]; strings.HasPrefix(ct, "text/html") {
					if resp.StatusCode != http.StatusSeeOther && !strings.HasPrefix(resp.Body, "<!doctype html>") {
						t.Fatalf("an HTML page that is not a document: %.200s", resp.Body)
					}
				} else if !json.Valid([]byte(resp.Body)) {
					t.Fatalf("body is not JSON: %s", resp.Body)
				}
				if err := contract.MustLoad(t).VerifyEvent(context.Background(), event, resp); err != nil {
					t.Errorf("run %d: %v", run, err)
				}
			}
		})
	}
}

// checkEventIsAPIGateways fails unless an HTTP fixture is the event API
// Gateway would send: the route key of the route it selects for the
// fixture's method and raw path, that route's path parameters, lower-case
// header names and cookies outside the headers.
func checkEventIsAPIGateways(t *testing.T, stack *localenv.Stack, event []byte) {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	gw, err := stack.Router(functions.Constructors)
	if err != nil {
		t.Fatal(err)
	}
	route, params, ok := gw.Select(ev.RequestContext.HTTP.Method, ev.RawPath)
	if !ok {
		t.Fatalf("API Gateway has no route for %s %s", ev.RequestContext.HTTP.Method, ev.RawPath)
	}
	if ev.RouteKey != route.Key() || ev.RequestContext.RouteKey != route.Key() {
		t.Errorf("routeKey %q (requestContext %q); API Gateway selects %q", ev.RouteKey, ev.RequestContext.RouteKey, route.Key())
	}
	if fmt.Sprint(ev.PathParameters) != fmt.Sprint(params) {
		t.Errorf("pathParameters %v; API Gateway passes %v", ev.PathParameters, params)
	}
	for name := range ev.Headers {
		if name != strings.ToLower(name) || name == "cookie" {
			t.Errorf("header %q: API Gateway sends lower-case names and cookies in the cookies field", name)
		}
	}
}

// The README's tour against the local router over real HTTP: Stash's
// example curl grants, the inventory shows the items, the same curl again
// answers 200 and the inventory is unchanged.
func TestTourCurlOverHTTP(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			stack := ddbtest.NewStack(t, b, ddbtest.StackOptions{Env: map[string]string{}})
			router := ddbtest.Router(t, stack)
			srv := httptest.NewServer(router)
			defer srv.Close()
			body := `{
          "transactionId": "abc123",
          "items": [
            { "id": "sword_123", "quantity": 1 },
            { "id": "shield_1234", "quantity": 1 }
          ]
        }`
			inventory := func() string {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/players/player_id_123/inventory", nil)
				req.Header.Set("Authorization", "Bearer "+localenv.DevKeys["gameServerKey"])
				return call(t, req, http.StatusOK)
			}
			for i := 0; i < 2; i++ {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/purchase/player_id_123", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("x-api-key", "cad1")
				call(t, req, http.StatusOK)
				want := `{"playerId":"player_id_123","items":[{"productId":"shield_1234","quantity":1},{"productId":"sword_123","quantity":1}],"debts":[]}`
				if got := inventory(); got != want {
					t.Fatalf("after call %d inventory = %s, want %s", i+1, got, want)
				}
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/no/such/route", nil)
			call(t, req, http.StatusNotFound)
			req, _ = http.NewRequest(http.MethodGet, srv.URL+"/purchase/player_id_123", nil)
			call(t, req, http.StatusNotFound) // as API Gateway answers a method no route has
		})
	}
}

func call(t *testing.T, req *http.Request, want int) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", req.Method, req.URL.Path, resp.StatusCode, b, want)
	}
	return strings.TrimSpace(string(b))
}

// signedAt is the time of a fixture's v1 signature, or now.
func signedAt(t *testing.T, event []byte) time.Time {
	var ev struct {
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(ev.Headers["x-stash-hmac-signature"], ";")
	if len(parts) != 4 {
		return time.Now()
	}
	ms, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		t.Fatalf("fixture signature timestamp: %v", err)
	}
	return time.UnixMilli(ms)
}
