// Command openapi is the Lambda function serving Tollgate's API contract,
// GET /openapi.yaml and GET /openapi.json.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/platform/openapi/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("openapi", handler.New) }
