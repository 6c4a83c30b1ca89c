// Command dispatch is the scheduled Lambda function that delivers the
// outbox's due events to merchants' and stores' webhook URLs.
package main

import (
	"github.com/tollgate-dev/tollgate/functions/dispatch/handler"
	"github.com/tollgate-dev/tollgate/shared/lambdarun"
)

func main() { lambdarun.Job("dispatch", handler.New) }
