// Command checkoutorder is the Lambda function of GET /s/{store_slug}/orders/{order_id}/ (the order page).
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/checkoutorder/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("checkoutorder", handler.New) }
