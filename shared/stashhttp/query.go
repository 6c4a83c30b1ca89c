package stashhttp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/shared/auth"
	"github.com/tollgate-dev/tollgate/shared/decode"
	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/failure"
	"github.com/tollgate-dev/tollgate/shared/httpx"
)

// HandleQuery returns the handler of one signed Stash GET call (the catalog,
// offer and player lookups): the request is its query string, and the
// signature covers an empty body ("{unixMillis}." in v1, "" in the legacy
// scheme), whatever body the request may carry. parse decodes the query
// values, do acts and returns the 200 answer.
//
// Because the signature binds no request data, two rules narrow what one
// signature opens: a legacy signature (the HMAC of "", a constant) is
// accepted only when sig.AllowLegacy and sig.AllowLegacyLookups both say
// so, and a v1 signature, once accepted, is refused for any other path or
// query until it goes stale (a per-handler replay cache; see lookupReplays).
//
// Failures answer as Handle's:
//   - 401 code 16 for a missing, malformed, wrong or stale signature, or a
//     v1 signature already used for another path or query (nothing read);
//   - 400 code 3 for a query string that cannot be parsed or decoded;
//   - a domain refusal's answer (see refusals: 404 code 5, 409 code 9, ...);
//   - 503 code 14 for anything else.
func HandleQuery[Req, Resp any](sig auth.StashSignatures, log *slog.Logger, parse func(url.Values) (Req, error), do func(context.Context, Req) (Resp, error)) http.Handler {
	sig.AllowLegacy = sig.AllowLegacy && sig.AllowLegacyLookups
	seen := newLookupReplays(sig)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !verified(ctx, w, log, sig, r.Header, nil) {
			return
		}
		if !seen.admit(r) {
			log.WarnContext(ctx, "signature refused", "reason", "v1 signature already used for another lookup")
			WriteStatus(w, http.StatusUnauthorized, CodeUnauthenticated, "invalid or missing Stash signature")
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
		// scheme sees that it is on (it is the default on POSTs).
		d.Logger.Warn("legacy Stash signatures are accepted: they carry no timestamp, so a captured one can be replayed",
			"setting", auth.EnvLegacySignatures, "on_posts", true,
			"lookups_setting", auth.EnvLegacySignaturesForLookups, "on_lookups", sig.AllowLegacyLookups)
	}
	return sig, nil
}

// maxLookupReplays bounds a handler's replay cache. At Stash's lookup rates
// a container never holds that many signatures within a window; past it the
// oldest are forgotten first (weaker protection, never a refused call).
const maxLookupReplays = 1 << 16

// lookupReplays remembers the v1 signatures a lookup handler accepted and
// the path and query each was accepted for, until each goes stale. A GET's
// v1 signature is the HMAC of "{unixMillis}." alone, so the timestamp as
// signed identifies it (whatever base64 spelling the header uses); keying
// by it refuses the signature for another request while Stash's retry of
// the same request still works. It is per handler, so per container: one
// signature may still be used once on each container of each function.
type lookupReplays struct {
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	seen  map[string]lookupUse // timestamp as signed -> its use
	order []lookupEntry        // insertion order, for pruning
}

type lookupUse struct {
	target  string
	expires time.Time
}

type lookupEntry struct {
	millis  string
	expires time.Time
}

func newLookupReplays(sig auth.StashSignatures) *lookupReplays {
	c := &lookupReplays{window: sig.Window, now: sig.Now, seen: map[string]lookupUse{}}
	if c.window <= 0 {
		c.window = auth.DefaultSignatureWindow
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// admit reports whether the verified request r may be served: true for a
// legacy signature, a v1 signature not seen in its window, or one seen for
// the same path and query; false for one seen for another.
func (c *lookupReplays) admit(r *http.Request) bool {
	millis, ok := v1Millis(r.Header)
	if !ok {
		return true
	}
	ms, err := strconv.ParseInt(millis, 10, 64)
	if err != nil {
		return true // cannot happen: Verify parsed it
	}
	target := r.URL.EscapedPath() + "?" + r.URL.RawQuery
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prune(now)
	if use, ok := c.seen[millis]; ok && !now.After(use.expires) {
		return use.target == target
	}
	// Verify accepts the timestamp up to window either side of now.
	expires := time.UnixMilli(ms).Add(c.window)
	c.seen[millis] = lookupUse{target: target, expires: expires}
	c.order = append(c.order, lookupEntry{millis: millis, expires: expires})
	return true
}

// prune forgets stale signatures from the oldest on, and the oldest ones
// beyond maxLookupReplays.
func (c *lookupReplays) prune(now time.Time) {
	for len(c.order) > 0 && (now.After(c.order[0].expires) || len(c.order) >= maxLookupReplays) {
		e := c.order[0]
		c.order = c.order[1:]
		if use, ok := c.seen[e.millis]; ok && use.expires.Equal(e.expires) {
			delete(c.seen, e.millis)
		}
	}
}

// v1Millis returns the timestamp of the request's v1 signature header, as
// signed, and false when it carries none (a legacy signature was checked).
func v1Millis(h http.Header) (string, bool) {
	var values []string
	for k, v := range h {
		if strings.EqualFold(k, auth.HeaderStashSignature) {
			values = append(values, v...)
		}
	}
	if len(values) != 1 {
		return "", false
	}
	parts := strings.Split(values[0], ";")
	if len(parts) != 4 {
		return "", false
	}
	return parts[2], true
}
