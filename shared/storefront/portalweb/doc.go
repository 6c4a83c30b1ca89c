// Package portalweb is the HTTP layer of the partner portal: the pages a
// store's members use to run it, rendered server-side from embedded
// html/template files with the checkout's look and the floor of
// shared/platform/webpage (CSP nonces, security headers, signed CSRF
// tokens, cookies). It decodes what the browser sends, checks who is
// asking and in which role, calls one domain function
// (shared/storefront/portal for accounts, shared/storefront/stores for the
// store, shared/storefront/checkout for refunds) and renders the answer.
//
// # Page families
//
// Each family is one Lambda function behind its own routes (template.yaml):
//
//	PortalAuthFunction    /portal/, /portal/signin/, /portal/signin/link/, /portal/signout/,
//	                      /portal/invite/, /portal/account/, /portal/passkeys/{register,login}/   (*Pages).Auth
//	PortalStoreFunction   /portal/stores/{store_slug}/{,settings/,products/,products/{sku}/,apikeys/,licenses/}  (*Pages).Store
//	PortalOrdersFunction  /portal/stores/{store_slug}/{overview/,orders/,orders/{order_id}/,webhooks/}         (*Pages).Orders
//	PortalTeamFunction    /portal/stores/{store_slug}/{team/,audit/}                                          (*Pages).Team
//
// Every page is a path ending in "/", one API Gateway route each
// (template.yaml: Path .../{slash+}, as the checkout's pages) and one
// operation of shared/platform/openapi/openapi.yaml per method: a page
// needs both, or TestRoutesMatchTemplate fails. One path takes several
// actions as a form field (action=create|revoke) rather than more routes.
//
// # Adding a page to a family
//
//  1. Write templates/<name>.html defining "main" (and "scripts" when the
//     page has script: <script nonce="{{.Nonce}}">). Every template in
//     templates/ is parsed with layout.html at init; render it with
//     p.render(w, r, status, "<name>", v) where v is a view (Member and
//     Store set by the store middleware; Page is the page's own data).
//  2. Add a route to the family's route list (auth.go, store.go,
//     orders.go, team.go): route{Method, Pattern, Roles, Handle}. Patterns
//     are net/http ServeMux patterns under the family's path, e.g.
//     "/portal/stores/{store}/team/{$}" (the same path as the route's). Roles lists who may open it;
//     another member of the store gets the 403 page, anyone else (not a
//     member, not signed in to this store) the 404 page, so a URL never
//     reveals what exists. A page without a session redirects to sign-in.
//  3. A form posts to the page's own path with {{template "csrf" .}}
//     inside; POST routes have their CSRF token checked before Handle runs
//     (postForm reads the form with a size limit). A change that needs a
//     recent sign-in (live key, secret rotation, refund, team) calls
//     p.recent(w, r, req) first and returns when it answers false: the
//     member is sent to sign in again and comes back.
//  4. Errors: return typed domain errors to p.fail, which maps them to a
//     status and page in one place (fail in web.go): add a case there for
//     a new domain error rather than writing a status by hand.
//  5. Test through the local API Gateway path in functions/portal_*_test.go
//     (portalClient in functions/portal_test.go signs a member in with a
//     real email link from MAIL_DIR and keeps cookies and CSRF tokens).
package portalweb
