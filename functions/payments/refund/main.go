// Command refund is the Lambda function of the payments API's
// PUT /api/v1/authorization/{id}/refund.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/payments/refund/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("refund", handler.New) }
