package auth

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/httpx"
	"github.com/tollgate-dev/tollgate/shared/secrets"
)

// RequireHeader wraps next so that it runs only for requests whose header
// holds an accepted value of key name.
func (k Keys) RequireHeader(name secrets.Name, header string, log *slog.Logger, next http.Handler) http.Handler {
	return k.require(name, func(r *http.Request) string { return r.Header.Get(header) }, "", log, next)
}

// RequireBearer wraps next so that it runs only for requests whose
// "Authorization: Bearer" token is an accepted value of key name.
func (k Keys) RequireBearer(name secrets.Name, log *slog.Logger, next http.Handler) http.Handler {
	return k.require(name, BearerToken, `Bearer realm="tollgate"`, log, next)
}

// require answers 401 {"error": "Unauthorized"} to a missing or wrong
// credential and 503 when the key cannot be read (a retry may succeed).
func (k Keys) require(name secrets.Name, presented func(*http.Request) string, challenge string, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := k.Check(r.Context(), name, presented(r))
		switch {
		case err == nil:
			next.ServeHTTP(w, r)
		case errors.Is(err, ErrUnauthorized):
			if challenge != "" {
				w.Header().Set("WWW-Authenticate", challenge)
			}
			httpx.WriteError(w, http.StatusUnauthorized, "Unauthorized")
		default:
			log.ErrorContext(r.Context(), "key unavailable", "key", string(name), "error", err)
			httpx.WriteError(w, http.StatusServiceUnavailable, "temporarily unavailable; retry")
		}
	})
}
