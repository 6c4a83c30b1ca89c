// Command stripewebhook is the Lambda function of the product's Stripe
// webhook receiver, POST /stripe/webhook/.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/platform/stripewebhook/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("stripewebhook", handler.New) }
