// Command storeorder is the Lambda function of a store's order read,
// GET /api/v1/stores/{store_slug}/orders/{order_id}/.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/storeorder/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("storeorder", handler.New) }
