// Command geo is the Lambda function of GET /api/v1/geo/subdivisions/.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/geosubdivisions/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("geo", handler.New) }
