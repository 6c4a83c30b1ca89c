// Command reverse is the Lambda function of the payments API's
// PUT /api/v1/preauthorization/{id}/reverse.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/payments/reverse/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("reverse", handler.New) }
