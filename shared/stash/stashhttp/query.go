package stashhttp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"

	"github.com/tollgate-dev/tollgate/shared/platform/auth"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
)

// HandleQuery returns the handler of one signed Stash GET call (the catalog,
// offer and player lookups): the request is its query string, and the
// signature covers an empty body ("{unixMillis}." in v1, "" in the legacy
// scheme), whatever body the request may carry. parse decodes the query
// values, do acts and returns the 200 answer.
//
// Because the signature binds no request data, a legacy signature (the
// HMAC of "", a constant that would open every lookup forever) is accepted
// only when sig.AllowLegacy and sig.AllowLegacyLookups both say so. A v1
// signature binds only its time: two lookups Stash signs in the same
// millisecond carry the same one, so it cannot be tied to one path or query
// without refusing Stash's own calls; its window (STASH_SIGNATURE_WINDOW)
// bounds what a captured one opens.
//
// Failures answer as Handle's:
//   - 401 code 16 for a missing, malformed, wrong or stale signature
//     (nothing read);
//   - 400 code 3 for a query string that cannot be parsed or decoded;
//   - a domain refusal's answer (see refusals: 404 code 5, 409 code 9, ...);
//   - 503 code 14 for anything else.
func HandleQuery[Req, Resp any](sig auth.StashSignatures, log *slog.Logger, parse func(url.Values) (Req, error), do func(context.Context, Req) (Resp, error)) http.Handler {
	sig.AllowLegacy = sig.AllowLegacy && sig.AllowLegacyLookups
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !verified(ctx, w, log, sig, r.Header, nil) {
			return
		}
		// url.Values from r.URL.Query() silently drops malformed pairs;
		// a value Stash did not mean must not be read as absent.
		values, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			WriteRequestStatus(w, decode.Errorf("malformed query string: %v", err))
			return
		}
		req, err := parse(values)
		if err != nil {
			WriteRequestStatus(w, err)
			return
		}
		resp, err := do(ctx, req)
		respond(ctx, w, log, resp, err)
	})
}

// verified checks the signature of a Stash call over body and, when it is
// refused or cannot be checked, answers (401 code 16, or 503 code 14 when
// the key could not be read) and reports false. Handle and HandleQuery share
// it.
func verified(ctx context.Context, w http.ResponseWriter, log *slog.Logger, sig auth.StashSignatures, h http.Header, body []byte) bool {
	err := sig.Verify(ctx, h, body)
	switch {
	case err == nil:
		return true
	case errors.Is(err, auth.ErrUnauthorized):
		log.WarnContext(ctx, "signature refused", "reason", err.Error())
		WriteStatus(w, http.StatusUnauthorized, CodeUnauthenticated, "invalid or missing Stash signature")
	default:
		log.Log(ctx, failure.Level(ctx, err), "egress key unavailable", "error", err)
		WriteStatus(w, http.StatusServiceUnavailable, CodeUnavailable, "temporarily unavailable; retry")
	}
	return false
}

// respond writes the outcome of a Stash call's action: 200 with resp, a
// refusal's answer, or 503 code 14 (nothing changed; a retry is safe).
// Handle and HandleQuery share it.
func respond[Resp any](ctx context.Context, w http.ResponseWriter, log *slog.Logger, resp Resp, err error) {
	if err == nil {
		httpx.WriteJSON(w, http.StatusOK, resp)
		return
	}
	if a, msg, ok := refusalAnswer(err); ok {
		log.WarnContext(ctx, "refused", "status", a.status, "reason", msg)
		WriteStatus(w, a.status, a.code, msg)
		return
	}
	log.Log(ctx, failure.Level(ctx, err), "call failed; nothing changed", "error", err)
	WriteStatus(w, http.StatusServiceUnavailable, CodeUnavailable, "temporarily unavailable; nothing changed; retry")
}

// Signatures returns the signature check of a function's Stash endpoints,
// configured from its environment (auth.StashSignaturesFromEnv) with the
// egress key from its key source and its clock.
func Signatures(d deps.Deps) (auth.StashSignatures, error) {
	sig, err := auth.StashSignaturesFromEnv(d, auth.Keys{Source: d.Secrets})
	if err != nil {
		return auth.StashSignatures{}, err
	}
	sig.Now = d.Now
	if sig.AllowLegacy && d.Logger != nil {
		// Said at every start so a studio that never chose the legacy
		// scheme sees that it is on (it is the default on POSTs); once per
		// process: a deployed function is its own process, while make run
		// starts every Stash function in one.
		legacyWarning.Do(func() { warnLegacy(d.Logger, sig) })
	}
	return sig, nil
}

// legacyWarning makes Signatures warn of legacy signatures once per process.
var legacyWarning sync.Once

func warnLegacy(log *slog.Logger, sig auth.StashSignatures) {
	log.Warn("legacy Stash signatures are accepted: they carry no timestamp, so a captured one can be replayed",
		"setting", auth.EnvLegacySignatures, "on_posts", true,
		"lookups_setting", auth.EnvLegacySignaturesForLookups, "on_lookups", sig.AllowLegacyLookups)
}
