// Command authorize is the Lambda function of Stash's purchase authorization
// call, POST /purchase/{playerId}.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/authorize/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("authorize", handler.New) }
