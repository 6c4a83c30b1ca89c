// Package functions lists every Lambda function of template.yaml by logical
// id: the handler constructors of the functions behind routes and the job
// constructors of the scheduled ones. The local runner, the invoke tool and
// the tests build them from here; each Lambda binary imports only its own.
package functions

import (
	authorize "github.com/tollgate-dev/tollgate/functions/authorize/handler"
	cancel "github.com/tollgate-dev/tollgate/functions/cancel/handler"
	catalog "github.com/tollgate-dev/tollgate/functions/catalog/handler"
	confirm "github.com/tollgate-dev/tollgate/functions/confirm/handler"
	fulfil "github.com/tollgate-dev/tollgate/functions/fulfil/handler"
	geo "github.com/tollgate-dev/tollgate/functions/geo/handler"
	inventory "github.com/tollgate-dev/tollgate/functions/inventory/handler"
	offer "github.com/tollgate-dev/tollgate/functions/offer/handler"
	openapi "github.com/tollgate-dev/tollgate/functions/openapi/handler"
	player "github.com/tollgate-dev/tollgate/functions/player/handler"
	playerprofile "github.com/tollgate-dev/tollgate/functions/playerprofile/handler"
	register "github.com/tollgate-dev/tollgate/functions/register/handler"
	storeorder "github.com/tollgate-dev/tollgate/functions/storeorder/handler"
	sweeper "github.com/tollgate-dev/tollgate/functions/sweeper/handler"
	taxrates "github.com/tollgate-dev/tollgate/functions/taxrates/handler"
	webhook "github.com/tollgate-dev/tollgate/functions/webhook/handler"
	"github.com/tollgate-dev/tollgate/shared/lambdarun"
)

// Constructors maps logical id to handler constructor (functions with routes).
var Constructors = map[string]lambdarun.Constructor{
	"AuthorizeFunction":       authorize.New,
	"InventoryFunction":       inventory.New,
	"RegisterFunction":        register.New,
	"ConfirmFunction":         confirm.New,
	"CancelFunction":          cancel.New,
	"WebhookFunction":         webhook.New,
	"CatalogFunction":         catalog.New,
	"OfferFunction":           offer.New,
	"PlayerFunction":          player.New,
	"PlayerProfileFunction":   playerprofile.New,
	"OpenAPIFunction":         openapi.New,
	"FulfilFunction":          fulfil.New,
	"StoreOrderFunction":      storeorder.New,
	"GeoSubdivisionsFunction": geo.New,
	"TaxRatesFunction":        taxrates.New,
}

// Jobs maps logical id to job constructor (scheduled functions).
var Jobs = map[string]lambdarun.JobConstructor{
	"SweeperFunction": sweeper.New,
}
