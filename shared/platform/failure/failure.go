// Package failure says whose a failure is. A request whose caller went away
// (its context cancelled: net/http cancels it when the connection closes,
// Lambda when the invocation ends) fails by the caller's doing, not
// Tollgate's: it is logged below ERROR, by the HTTP layer and by the domain
// alike. It imports nothing but the standard library.
package failure

import (
	"context"
	"errors"
	"log/slog"
)

// Gone reports whether the caller went away: ctx was cancelled. A passed
// deadline is not the caller's doing and does not count.
func Gone(ctx context.Context) bool { return errors.Is(ctx.Err(), context.Canceled) }

// ClientGone reports whether the failure err came after the caller went
// away (Gone).
func ClientGone(ctx context.Context, err error) bool { return err != nil && Gone(ctx) }

// Level is the level a failure err is logged at: ERROR, or INFO when the
// caller is gone (ClientGone), since then nothing of Tollgate's failed.
func Level(ctx context.Context, err error) slog.Level {
	if ClientGone(ctx, err) {
		return slog.LevelInfo
	}
	return slog.LevelError
}
