// Package stashhttp serves the calls Stash signs: it reads the body under
// the limit (or the query string), verifies the HMAC signature over the
// exact bytes received, decodes the gRPC-gateway JSON and writes the answer
// or an rpcStatus error, mapping domain refusals to their answers in one
// table (status.go). Every Stash endpoint is one Handle (POST) or
// HandleQuery (GET) call around its decoder and its action.
package stashhttp

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/stash/stashapi"
)

// Handle returns the handler of one signed Stash call: decode parses the
// body, do acts and returns the 200 answer. Failures answer:
//   - 401 code 16 for a missing, malformed, wrong or stale signature
//     (nothing read or written);
//   - 400 code 3 (413 code 11) for a request that cannot be decoded;
//   - a domain refusal's answer (see refusals);
//   - 503 code 14 for anything else (the store or the key failed; nothing
//     changed and a retry is safe).
func Handle[Req, Resp any](sig auth.StashSignatures, log *slog.Logger, decode func([]byte) (Req, error), do func(context.Context, Req) (Resp, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		body, err := httpx.ReadBody(r, stashapi.BodyLimit)
		if err != nil {
			WriteRequestStatus(w, err)
			return
		}
		if !verified(ctx, w, log, sig, r.Header, body) {
			return
		}
		req, err := decode(body)
		if err != nil {
			WriteRequestStatus(w, err)
			return
		}
		resp, err := do(ctx, req)
		respond(ctx, w, log, resp, err)
	})
}
