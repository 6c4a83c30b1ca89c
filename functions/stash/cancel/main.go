// Command cancel is the Lambda function of Stash's cancel call,
// POST /api/v1/purchase/cancel.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/cancel/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("cancel", handler.New) }
