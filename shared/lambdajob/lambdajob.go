// Package lambdajob runs a scheduled function's job on AWS Lambda, invoked
// by an EventBridge schedule.
package lambdajob

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/tollgate-dev/tollgate/shared/platform"
)

// Handler is the signature of a scheduled Lambda entry.
type Handler func(context.Context, events.EventBridgeEvent) error

// Entry adapts job to an EventBridge event, logging one line per run.
func Entry(function string, logger *slog.Logger, job platform.Job) Handler {
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		start := time.Now()
		err := job(ctx)
		level := slog.LevelInfo
		if err != nil {
			level = slog.LevelError
		}
		logger.Log(ctx, level, "run", "function", function, "event", ev.ID, "duration", time.Since(start), "error", err)
		return err
	}
}

// Run is the whole main of a scheduled function.
func Run(function string, newJob platform.JobConstructor) {
	deps, err := platform.FromEnv(context.Background(), nil)
	if err != nil {
		platform.NewLogger(os.Stderr, "").Error("function setup failed", "function", function, "error", err)
		os.Exit(1)
	}
	job, err := newJob(deps)
	if err != nil {
		deps.Logger.Error("job setup failed", "function", function, "error", err)
		os.Exit(1)
	}
	lambda.Start(Entry(function, deps.Logger, job))
}
