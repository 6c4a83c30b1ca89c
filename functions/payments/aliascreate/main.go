// Command aliascreate is the Lambda function of the payments API's
// POST /api/v1/alias.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/payments/aliascreate/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("aliascreate", handler.New) }
