// Command confirm is the Lambda function of Stash's confirm call,
// POST /api/v1/purchase/confirm.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/confirm/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("confirm", handler.New) }
