// Command inventory is the Lambda function of the game server's inventory
// read, GET /api/v1/players/{playerId}/inventory.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/inventory/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.HTTP("inventory", handler.New) }
