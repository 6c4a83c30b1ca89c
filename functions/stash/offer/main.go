// Command offer is the Lambda function of Stash's offer details lookup,
// GET /api/v1/catalog/offer.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/offer/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("offer", handler.New) }
