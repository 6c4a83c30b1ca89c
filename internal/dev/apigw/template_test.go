package apigw_test

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/apigw"
	"github.com/tollgate-dev/tollgate/internal/dev/samtemplate"
	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
)

// The routes the local gateway serves are the ones the deployed HTTP API
// has: every route of template.yaml is one API Gateway keeps, SAM puts
// every one of them in the API it creates (it drops some silently, see
// aws/serverless-application-model#1949) with its function's integration,
// and each function's invoke permission, as SAM writes it, lets API
// Gateway call it for that route.
func TestTemplateRoutesAreDeployedRoutes(t *testing.T) {
	p, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := samtemplate.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	var local []string
	var routes []apigw.Route
	for _, id := range raw.FunctionIDs() {
		for _, r := range raw.Functions[id].Routes {
			routes = append(routes, apigw.Route{Method: r.Method, Path: r.Path, Function: id})
			local = append(local, r.Method+" "+r.Path+" -> "+id)
		}
	}
	if _, err := apigw.Compile(routes); err != nil {
		t.Fatal(err)
	}

	samtranslate.Require(t)
	tmpl, err := samtranslate.Load(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	apis := tmpl.OfType("AWS::ApiGatewayV2::Api")
	if len(apis) != 1 {
		t.Fatalf("HTTP APIs %v, want one", apis)
	}
	var api struct {
		Body struct {
			Paths map[string]map[string]struct {
				Integration struct {
					URI struct {
						Sub string `json:"Fn::Sub"`
					} `json:"uri"`
					PayloadFormatVersion string `json:"payloadFormatVersion"`
				} `json:"x-amazon-apigateway-integration"`
			} `json:"paths"`
		} `json:"Body"`
	}
	if err := json.Unmarshal(tmpl.Resources[apis[0]].Properties, &api); err != nil {
		t.Fatal(err)
	}
	fnOfURI := regexp.MustCompile(`\$\{(\w+)\.Arn\}`)
	var deployed []string
	for p, ops := range api.Body.Paths {
		for method, op := range ops {
			m := fnOfURI.FindStringSubmatch(op.Integration.URI.Sub)
			if m == nil || op.Integration.PayloadFormatVersion != "2.0" {
				t.Errorf("%s %s: integration %+v is not a payload 2.0 Lambda proxy", method, p, op.Integration)
				continue
			}
			deployed = append(deployed, strings.ToUpper(method)+" "+p+" -> "+m[1])
		}
	}
	sort.Strings(local)
	sort.Strings(deployed)
	if strings.Join(local, "\n") != strings.Join(deployed, "\n") {
		t.Errorf("routes of template.yaml:\n%s\nroutes of the API SAM creates:\n%s", strings.Join(local, "\n"), strings.Join(deployed, "\n"))
	}

	// API Gateway invokes with source ARN .../<stage>/<METHOD>/<route path>.
	perms := map[string][]string{} // function -> source ARN patterns (path part)
	for _, id := range tmpl.OfType("AWS::Lambda::Permission") {
		var props struct {
			FunctionName struct {
				Ref string `json:"Ref"`
			} `json:"FunctionName"`
			SourceArn struct {
				Sub []json.RawMessage `json:"Fn::Sub"`
			} `json:"SourceArn"`
		}
		if err := json.Unmarshal(tmpl.Resources[id].Properties, &props); err != nil || len(props.SourceArn.Sub) == 0 {
			continue
		}
		var arn string
		_ = json.Unmarshal(props.SourceArn.Sub[0], &arn)
		_, route, ok := strings.Cut(arn, "${__Stage__}/")
		if ok {
			perms[props.FunctionName.Ref] = append(perms[props.FunctionName.Ref], route)
		}
	}
	for _, r := range routes {
		want := r.Method + r.Path // "GET/market/{slash+}"
		allowed := false
		for _, pattern := range perms[r.Function] {
			if wildcard(pattern, want) {
				allowed = true
			}
		}
		if !allowed {
			t.Errorf("%s: no invoke permission of %s matches %s (it has %v)", r.Key(), r.Function, want, perms[r.Function])
		}
	}
}

// wildcard matches an IAM-style pattern: * is any run of characters, "/"
// included.
func wildcard(pattern, s string) bool {
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
	return regexp.MustCompile(re).MatchString(s)
}
