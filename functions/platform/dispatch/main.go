// Command dispatch is the Lambda function that delivers the outbox's
// events to merchants' and stores' webhook URLs: fed by the outbox table's
// stream (new events) and run on a schedule (due retries).
package main

import (
	"github.com/tollgate-dev/tollgate/functions/platform/dispatch/handler"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
)

func main() { lambdarun.JobAndStream("dispatch", handler.New, handler.NewStream) }
