// Command sweeper is the scheduled Lambda function that releases expired
// reservations.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/stash/sweeper/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.Job("sweeper", handler.New) }
