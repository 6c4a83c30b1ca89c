// Command aliasdelete is the Lambda function of the payments API's
// DELETE /api/v1/alias/{aliasId}.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/payments/aliasdelete/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("aliasdelete", handler.New) }
