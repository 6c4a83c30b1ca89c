// Package functions lists every Lambda function of template.yaml by logical
// id: the handler constructors of the functions behind routes and the job
// constructors of the scheduled ones. The local runner, the invoke tool and
// the tests build them from here; each Lambda binary imports only its own.
package functions

import (
	aliascreate "github.com/tollgate-dev/tollgate/functions/aliascreate/handler"
	aliasdelete "github.com/tollgate-dev/tollgate/functions/aliasdelete/handler"
	aliasexchange "github.com/tollgate-dev/tollgate/functions/aliasexchange/handler"
	authorize "github.com/tollgate-dev/tollgate/functions/authorize/handler"
	cancel "github.com/tollgate-dev/tollgate/functions/cancel/handler"
	capture "github.com/tollgate-dev/tollgate/functions/capture/handler"
	catalog "github.com/tollgate-dev/tollgate/functions/catalog/handler"
	checkoutcart "github.com/tollgate-dev/tollgate/functions/checkoutcart/handler"
	checkoutorder "github.com/tollgate-dev/tollgate/functions/checkoutorder/handler"
	checkoutpay "github.com/tollgate-dev/tollgate/functions/checkoutpay/handler"
	checkoutsession "github.com/tollgate-dev/tollgate/functions/checkoutsession/handler"
	confirm "github.com/tollgate-dev/tollgate/functions/confirm/handler"
	dispatch "github.com/tollgate-dev/tollgate/functions/dispatch/handler"
	fulfil "github.com/tollgate-dev/tollgate/functions/fulfil/handler"
	geo "github.com/tollgate-dev/tollgate/functions/geo/handler"
	inventory "github.com/tollgate-dev/tollgate/functions/inventory/handler"
	market "github.com/tollgate-dev/tollgate/functions/market/handler"
	offer "github.com/tollgate-dev/tollgate/functions/offer/handler"
	openapi "github.com/tollgate-dev/tollgate/functions/openapi/handler"
	paymentauthorization "github.com/tollgate-dev/tollgate/functions/paymentauthorization/handler"
	paymenttransaction "github.com/tollgate-dev/tollgate/functions/paymenttransaction/handler"
	player "github.com/tollgate-dev/tollgate/functions/player/handler"
	playerprofile "github.com/tollgate-dev/tollgate/functions/playerprofile/handler"
	preauthorization "github.com/tollgate-dev/tollgate/functions/preauthorization/handler"
	refund "github.com/tollgate-dev/tollgate/functions/refund/handler"
	register "github.com/tollgate-dev/tollgate/functions/register/handler"
	reverse "github.com/tollgate-dev/tollgate/functions/reverse/handler"
	storeorder "github.com/tollgate-dev/tollgate/functions/storeorder/handler"
	stripewebhook "github.com/tollgate-dev/tollgate/functions/stripewebhook/handler"
	sweeper "github.com/tollgate-dev/tollgate/functions/sweeper/handler"
	taxrates "github.com/tollgate-dev/tollgate/functions/taxrates/handler"
	webhook "github.com/tollgate-dev/tollgate/functions/webhook/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

// Constructors maps logical id to handler constructor (functions with routes).
var Constructors = map[string]lambdarun.Constructor{
	"AuthorizeFunction":            authorize.New,
	"InventoryFunction":            inventory.New,
	"RegisterFunction":             register.New,
	"ConfirmFunction":              confirm.New,
	"CancelFunction":               cancel.New,
	"WebhookFunction":              webhook.New,
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
	"FulfilFunction":               fulfil.New,
	"CheckoutSessionFunction":      checkoutsession.New,
	"StoreOrderFunction":           storeorder.New,
	"GeoSubdivisionsFunction":      geo.New,
	"TaxRatesFunction":             taxrates.New,
	"CheckoutCartFunction":         checkoutcart.New,
	"CheckoutPayFunction":          checkoutpay.New,
	"CheckoutOrderFunction":        checkoutorder.New,
	"MarketFunction":               market.New,
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
