// Command checkoutcart is the Lambda function of GET and POST /s/{store_slug}/cart/ (the hosted cart).
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/checkoutcart/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("checkoutcart", handler.New) }
