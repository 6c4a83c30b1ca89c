// Command checkoutpay is the Lambda function of GET and POST /s/{store_slug}/pay/{order_id}/ (the pay page).
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/checkoutpay/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("checkoutpay", handler.New) }
