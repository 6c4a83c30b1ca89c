// Command taxrates is the Lambda function of GET /api/v1/tax/rates/.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/taxrates/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("taxrates", handler.New) }
