// Command playerprofile is the Lambda function of the game server's profile
// write, PUT /api/v1/players/{playerId}.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/playerprofile/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("playerprofile", handler.New) }
