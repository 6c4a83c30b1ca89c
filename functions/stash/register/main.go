// Command register is the Lambda function of Stash's register call,
// POST /api/v1/purchase/register.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/register/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("register", handler.New) }
