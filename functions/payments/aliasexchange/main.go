// Command aliasexchange is the Lambda function of the payments API's
// PUT /api/v1/alias/{aliasId}.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/payments/aliasexchange/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("aliasexchange", handler.New) }
