// Command paymenttransaction is the Lambda function of the payments API's
// GET /api/v1/transactions/{id}.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/payments/paymenttransaction/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("paymenttransaction", handler.New) }
