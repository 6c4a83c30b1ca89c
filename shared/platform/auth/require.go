package auth

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/failure"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// RequireHeader wraps next so that it runs only for requests whose header,
// given exactly once, holds an accepted value of key name.
func (k Keys) RequireHeader(name secrets.Name, header string, log *slog.Logger, next http.Handler) http.Handler {
	return k.require(name, func(r *http.Request) (string, error) {
		v, _, err := oneHeader(r.Header, header)
		return v, err
	}, "", log, next)
}

// RequireBearer wraps next so that it runs only for requests whose
// "Authorization: Bearer" token, in the one Authorization header, is an
// accepted value of key name.
func (k Keys) RequireBearer(name secrets.Name, log *slog.Logger, next http.Handler) http.Handler {
	return k.require(name, bearerToken, `Bearer realm="tollgate"`, log, next)
}

// require answers 401 {"error": "Unauthorized"} to a missing, wrong or
// repeated credential (logging why, never a value) and 503 when the key
// cannot be read (a retry may succeed). A repeated credential is refused
// before the key is read.
func (k Keys) require(name secrets.Name, presented func(*http.Request) (string, error), challenge string, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		credential, err := presented(r)
		reason := ""
		switch {
		case err != nil:
			reason = err.Error()
		case credential == "":
			reason = "no credential"
			err = ErrUnauthorized
		default:
			reason = "wrong credential"
			err = k.Check(r.Context(), name, credential)
		}
		switch {
		case err == nil:
			next.ServeHTTP(w, r)
		case errors.Is(err, ErrUnauthorized):
			log.InfoContext(r.Context(), "unauthorized", "key", string(name), "reason", reason)
			if challenge != "" {
				w.Header().Set("WWW-Authenticate", challenge)
			}
			httpx.WriteError(w, http.StatusUnauthorized, "Unauthorized")
		default:
			log.Log(r.Context(), failure.Level(r.Context(), err), "key unavailable", "key", string(name), "error", err)
			httpx.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable; retry")
		}
	})
}
