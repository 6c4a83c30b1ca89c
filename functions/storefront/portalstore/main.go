// Command portalstore is the Lambda function of GET and POST /portal/stores/{store_slug}/{page+} (the partner portal: settings, products, API keys, license keys).
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/portalstore/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("portalstore", handler.New) }
