// Command player is the Lambda function of Stash's player lookup,
// GET /api/v1/player.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/player/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("player", handler.New) }
