// Command paymentauthorization is the Lambda function of the payments API's
// PUT /api/v1/authorization.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/payments/paymentauthorization/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("paymentauthorization", handler.New) }
