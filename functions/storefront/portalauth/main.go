// Command portalauth is the Lambda function of GET and POST /portal/{slash+} (the partner portal: sign-in, sign-out, invitations, the member's stores and passkeys).
package main

import (
	"github.com/tollgate-dev/tollgate/functions/storefront/portalauth/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("portalauth", handler.New) }
