// Command market is the Lambda function of GET /market/ (the marketplace).
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/market/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("market", handler.New) }
