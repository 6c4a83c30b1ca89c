// Command webhook is the Lambda function receiving Stash's webhooks,
// POST /api/v1/webhooks/stash.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/stashwebhook/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("webhook", handler.New) }
