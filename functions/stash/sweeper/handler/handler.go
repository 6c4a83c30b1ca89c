// Package handler implements the sweeper: on a schedule, it releases the
// reservations of registrations nobody confirmed or cancelled in time,
// through the same transaction as Stash's cancel.
package handler

import (
	"context"

	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/lambdarun"
	"github.com/tollgate-dev/tollgate/shared/stash/purchase"
)

// EnvSweepBatch bounds the reservations one run releases (default 200).
const EnvSweepBatch = "SWEEP_BATCH"

// New builds the job from its dependencies.
func New(d deps.Deps) (lambdarun.JobFunc, error) {
	sweeper := purchase.NewSweeper(d)
	batch, err := d.PositiveInt(EnvSweepBatch, purchase.DefaultSweepBatch)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		n, err := sweeper.Sweep(ctx, batch)
		if n > 0 {
			d.Logger.InfoContext(ctx, "sweep released expired reservations", "released", n)
		}
		return err
	}, nil
}
