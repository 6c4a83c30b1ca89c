// Package functions lists every Lambda function of template.yaml by logical
// id: the handler constructors of the functions behind routes and the job
// constructors of the scheduled ones. The local runner, the invoke tool and
// the tests build them from here; each Lambda binary imports only its own.
package functions

import (
	aliascreate "github.com/tollgate-dev/tollgate/functions/payments/aliascreate/handler"
	aliasdelete "github.com/tollgate-dev/tollgate/functions/payments/aliasdelete/handler"
	aliasexchange "github.com/tollgate-dev/tollgate/functions/payments/aliasexchange/handler"
	capture "github.com/tollgate-dev/tollgate/functions/payments/capture/handler"
	paymentauthorization "github.com/tollgate-dev/tollgate/functions/payments/paymentauthorization/handler"
	paymenttransaction "github.com/tollgate-dev/tollgate/functions/payments/paymenttransaction/handler"
	preauthorization "github.com/tollgate-dev/tollgate/functions/payments/preauthorization/handler"
	refund "github.com/tollgate-dev/tollgate/functions/payments/refund/handler"
	reverse "github.com/tollgate-dev/tollgate/functions/payments/reverse/handler"
	dispatch "github.com/tollgate-dev/tollgate/functions/platform/dispatch/handler"
	openapi "github.com/tollgate-dev/tollgate/functions/platform/openapi/handler"
	stripewebhook "github.com/tollgate-dev/tollgate/functions/platform/stripewebhook/handler"
	authorize "github.com/tollgate-dev/tollgate/functions/stash/authorize/handler"
	cancel "github.com/tollgate-dev/tollgate/functions/stash/cancel/handler"
	catalog "github.com/tollgate-dev/tollgate/functions/stash/catalog/handler"
	confirm "github.com/tollgate-dev/tollgate/functions/stash/confirm/handler"
	inventory "github.com/tollgate-dev/tollgate/functions/stash/inventory/handler"
	offer "github.com/tollgate-dev/tollgate/functions/stash/offer/handler"
	player "github.com/tollgate-dev/tollgate/functions/stash/player/handler"
	playerprofile "github.com/tollgate-dev/tollgate/functions/stash/playerprofile/handler"
	register "github.com/tollgate-dev/tollgate/functions/stash/register/handler"
	stashwebhook "github.com/tollgate-dev/tollgate/functions/stash/stashwebhook/handler"
	sweeper "github.com/tollgate-dev/tollgate/functions/stash/sweeper/handler"
	checkoutcart "github.com/tollgate-dev/tollgate/functions/storefront/checkoutcart/handler"
	checkoutorder "github.com/tollgate-dev/tollgate/functions/storefront/checkoutorder/handler"
	checkoutpay "github.com/tollgate-dev/tollgate/functions/storefront/checkoutpay/handler"
	checkoutsession "github.com/tollgate-dev/tollgate/functions/storefront/checkoutsession/handler"
	fulfill "github.com/tollgate-dev/tollgate/functions/storefront/fulfill/handler"
	geosubdivisions "github.com/tollgate-dev/tollgate/functions/storefront/geosubdivisions/handler"
	market "github.com/tollgate-dev/tollgate/functions/storefront/market/handler"
	portalauth "github.com/tollgate-dev/tollgate/functions/storefront/portalauth/handler"
	portalorders "github.com/tollgate-dev/tollgate/functions/storefront/portalorders/handler"
	portalstore "github.com/tollgate-dev/tollgate/functions/storefront/portalstore/handler"
	portalteam "github.com/tollgate-dev/tollgate/functions/storefront/portalteam/handler"
	storeorder "github.com/tollgate-dev/tollgate/functions/storefront/storeorder/handler"
	taxrates "github.com/tollgate-dev/tollgate/functions/storefront/taxrates/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

// Constructors maps logical id to handler constructor (functions with routes).
var Constructors = map[string]lambdarun.Constructor{
	"AuthorizeFunction":            authorize.New,
	"InventoryFunction":            inventory.New,
	"RegisterFunction":             register.New,
	"ConfirmFunction":              confirm.New,
	"CancelFunction":               cancel.New,
	"StashWebhookFunction":         stashwebhook.New,
	"CatalogFunction":              catalog.New,
	"OfferFunction":                offer.New,
	"PlayerFunction":               player.New,
	"PlayerProfileFunction":        playerprofile.New,
	"OpenAPIFunction":              openapi.New,
	"AliasCreateFunction":          aliascreate.New,
	"AliasExchangeFunction":        aliasexchange.New,
	"AliasDeleteFunction":          aliasdelete.New,
	"PreauthorizationFunction":     preauthorization.New,
	"PaymentAuthorizationFunction": paymentauthorization.New,
	"CaptureFunction":              capture.New,
	"ReverseFunction":              reverse.New,
	"RefundFunction":               refund.New,
	"PaymentTransactionFunction":   paymenttransaction.New,
	"StripeWebhookFunction":        stripewebhook.New,
	"FulfillFunction":              fulfill.New,
	"CheckoutSessionFunction":      checkoutsession.New,
	"StoreOrderFunction":           storeorder.New,
	"GeoSubdivisionsFunction":      geosubdivisions.New,
	"TaxRatesFunction":             taxrates.New,
	"CheckoutCartFunction":         checkoutcart.New,
	"CheckoutPayFunction":          checkoutpay.New,
	"CheckoutOrderFunction":        checkoutorder.New,
	"MarketFunction":               market.New,
	"PortalAuthFunction":           portalauth.New,
	"PortalStoreFunction":          portalstore.New,
	"PortalOrdersFunction":         portalorders.New,
	"PortalTeamFunction":           portalteam.New,
}

// Jobs maps logical id to job constructor (scheduled functions).
var Jobs = map[string]lambdarun.JobConstructor{
	"SweeperFunction":  sweeper.New,
	"DispatchFunction": dispatch.New,
}

// Streams maps logical id to the stream work of the functions a DynamoDB
// stream feeds (AWS::Lambda::EventSourceMapping in template.yaml).
var Streams = map[string]lambdarun.StreamConstructor{
	"DispatchFunction": dispatch.NewStream,
}
