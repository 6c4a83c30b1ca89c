package functions_test

import (
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
)

// gatewayNotFound is API Gateway's own answer to a URL no route names.
const gatewayNotFound = `{"message":"Not Found"}`

// Every URL the store platform API and the docs give, as clients call them (trailing
// slash included), reaches its function through API Gateway's route
// selection — and the same paths without the slash where the API has them;
// a path below a page is API Gateway's 404, not a page.
func TestDocumentedURLsReachTheirFunctions(t *testing.T) {
	s := newStoreEnv(t, ddbtest.Backend{Name: "minidyn"}, nil, 0)
	session := `{"cart":{"WIN-11-PRO":1},"currency":"GBP"}`
	stripeEvent := `{"id":"evt_docs_url","object":"event","type":"customer.created","data":{"object":{"id":"cus_1"}}}`
	for _, c := range []struct {
		method, url, key, body string
		status                 int // 0: any answer of the function's own
	}{
		{"POST", "/api/v1/stores/my-store/checkout/session/", devKey, session, 201},
		{"POST", "/api/v1/stores/my-store/checkout/session", devKey, session, 201},
		{"POST", "/api/v1/stores/my-store/licensing/fulfill/", devKey, fulfilBody("docs-url-1", "OFFICE-2024", 1, 0), 0},
		{"POST", "/api/v1/stores/my-store/licensing/fulfill", devKey, fulfilBody("docs-url-2", "OFFICE-2024", 1, 0), 0},
		{"GET", "/api/v1/geo/subdivisions/?country=US", "", "", 200},
		{"GET", "/api/v1/geo/subdivisions?country=US", "", "", 200},
		{"GET", "/api/v1/tax/rates/?country=GB", "", "", 200},
		{"GET", "/api/v1/tax/rates/?country=CA&subdivision=QC", "", "", 200},
		{"GET", "/api/v1/tax/rates?country=GB", "", "", 200},
		{"GET", "/s/my-store/cart/?add=WIN-11-PRO&currency=GBP", "", "", 0},
		{"GET", "/s/my-store/cart/?items=WIN-11-PRO:1,OFFICE-2024:2&currency=GBP", "", "", 0},
		{"GET", "/market/", "", "", 200},
		{"GET", "/s/my-store/pay/ORD-XXXXXXXXXXXX/", "", "", 0},
		{"GET", "/s/my-store/orders/ORD-XXXXXXXXXXXX/?sig=x", "", "", 0},
		{"GET", "/api/v1/stores/my-store/orders/ORD-XXXXXXXXXXXX/", devKey, "", 0},
		{"POST", "/stripe/webhook/", "", stripeEvent, 0},
		{"POST", "/stripe/webhook", "", stripeEvent, 0},
	} {
		r := s.do(c.method, c.url, c.key, c.body, "Stripe-Signature", "t=1,v1=00")
		if body := strings.TrimSpace(r.Body.String()); r.Code == 404 && body == gatewayNotFound || (c.status != 0 && r.Code != c.status) {
			t.Errorf("%s %s: %d %.200s; want the function's answer %d", c.method, c.url, r.Code, body, c.status)
		}
	}
	for _, miss := range [][2]string{{"GET", "/market/more"}, {"GET", "/market"}, {"GET", "/s/my-store/cart/x/y"}, {"DELETE", "/api/v1/tax/rates/"}, {"GET", "/nowhere"}} {
		if r := s.do(miss[0], miss[1], "", ""); r.Code != 404 || strings.TrimSpace(r.Body.String()) != gatewayNotFound {
			t.Errorf("%s %s: %d %.200s; want API Gateway's 404", miss[0], miss[1], r.Code, r.Body)
		}
	}
}
