// Command fulfil is the Lambda function of a store's licensing fulfilment,
// POST /api/v1/stores/{store_slug}/licensing/fulfill/.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/fulfill/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("fulfil", handler.New) }
