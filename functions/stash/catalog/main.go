// Command catalog is the Lambda function of Stash's catalog lookup,
// GET /api/v1/catalog.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/catalog/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("catalog", handler.New) }
