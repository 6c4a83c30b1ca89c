// Command preauthorization is the Lambda function of the payments API's
// PUT /api/v1/preauthorization.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/payments/preauthorization/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("preauthorization", handler.New) }
