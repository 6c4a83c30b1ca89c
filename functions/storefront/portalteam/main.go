// Command portalteam is the Lambda function of GET and POST /portal/stores/{store_slug}/team|audit/ (the partner portal: members, roles, invitations, audit log).
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/portalteam/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("portalteam", handler.New) }
