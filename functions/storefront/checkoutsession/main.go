// Command checkoutsession is the Lambda function of the checkout session
// API, POST /api/v1/stores/{store_slug}/checkout/session/.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/checkoutsession/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("checkoutsession", handler.New) }
