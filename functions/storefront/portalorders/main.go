// Command portalorders is the Lambda function of GET and POST /portal/stores/{store_slug}/orders|webhooks|overview/ (the partner portal: overview, orders and refunds, webhook deliveries).
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/portalorders/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("portalorders", handler.New) }
