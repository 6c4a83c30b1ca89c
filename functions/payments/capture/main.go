// Command capture is the Lambda function of the payments API's
// PUT /api/v1/preauthorization/{id}/capture.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/payments/capture/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("capture", handler.New) }
