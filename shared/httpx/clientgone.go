package httpx

import (
	"context"
	"errors"
	"log/slog"
)

// StatusClientClosed is the status the access log records for a request
// whose client went away before it was answered (nginx's 499): no answer
// reached anyone, so the handler's status would only mislead.
const StatusClientClosed = 499

// ClientGone reports whether err, a handler's failure, came after its client
// went away: the request's context was cancelled (net/http cancels it when
// the connection closes). Such a failure is the client's doing, not
// Tollgate's: handlers log it below ERROR. A passed deadline is not the
// client's doing and does not count.
func ClientGone(ctx context.Context, err error) bool {
	return err != nil && errors.Is(ctx.Err(), context.Canceled)
}

// FailureLevel is the level a handler logs its failure err at: ERROR, or
// INFO when the client is gone (ClientGone), since then nothing of
// Tollgate's failed and the access log records the abort.
func FailureLevel(ctx context.Context, err error) slog.Level {
	if ClientGone(ctx, err) {
		return slog.LevelInfo
	}
	return slog.LevelError
}
