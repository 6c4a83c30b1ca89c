package stashhttp

import (
	"errors"
	"net/http"

	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/stash/catalog"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
	"github.com/tollgate-dev/tollgate/shared/stash/purchase"
)

// Status is the error body of Stash's calls (google.rpc.Status as
// gRPC-gateway writes it): a gRPC code, a message and details.
type Status struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []any  `json:"details"`
}

// gRPC status codes of the Status bodies Tollgate answers.
const (
	CodeInvalidArgument    = 3
	CodeNotFound           = 5
	CodeAlreadyExists      = 6
	CodeFailedPrecondition = 9
	CodeOutOfRange         = 11
	CodeUnavailable        = 14
	CodeUnauthenticated    = 16
)

// answer is the HTTP status and gRPC code of a refusal.
type answer struct{ status, code int }

// refusals maps every domain refusal a Stash call can meet to its answer:
// the one place where domain reasons become rpcStatus answers. A refusal
// whose reason is not listed answers 409 code 9 (FAILED_PRECONDITION).
var refusals = []struct {
	reason error
	answer
}{
	{purchase.ErrAlreadyConfirmed, answer{http.StatusConflict, CodeAlreadyExists}},
	{purchase.ErrRefunded, answer{http.StatusConflict, CodeFailedPrecondition}},
	{purchase.ErrOtherPlayer, answer{http.StatusConflict, CodeFailedPrecondition}},
	{purchase.ErrItemsMismatch, answer{http.StatusConflict, CodeFailedPrecondition}},
	{purchase.ErrUnknownProducts, answer{http.StatusConflict, CodeFailedPrecondition}},
	{purchase.ErrLimitReached, answer{http.StatusConflict, CodeFailedPrecondition}},
	{purchase.ErrSoldOut, answer{http.StatusConflict, CodeFailedPrecondition}},
	{catalog.ErrNoProduct, answer{http.StatusNotFound, CodeNotFound}},
	{catalog.ErrGUIDMismatch, answer{http.StatusNotFound, CodeNotFound}},
	{catalog.ErrNotPriced, answer{http.StatusBadRequest, CodeInvalidArgument}},
	{players.ErrNoProfile, answer{http.StatusNotFound, CodeNotFound}},
}

// refusalAnswer reports the answer to err when it is a refusal, and false
// for any other error (the call could not be served).
func refusalAnswer(err error) (answer, string, bool) {
	var r *refusal.Error
	if !errors.As(err, &r) {
		return answer{}, "", false
	}
	for _, m := range refusals {
		if errors.Is(r, m.reason) {
			return m.answer, r.Message, true
		}
	}
	return answer{http.StatusConflict, CodeFailedPrecondition}, r.Message, true
}

// WriteStatus answers httpStatus with a Status body.
func WriteStatus(w http.ResponseWriter, httpStatus, code int, message string) {
	httpx.WriteJSON(w, httpStatus, Status{Code: code, Message: message, Details: []any{}})
}

// WriteRequestStatus answers a request that cannot be read or decoded (an
// *httpx.RequestError with its status, a *decode.Error or any other error
// as 400) with a Status body: code 3 (INVALID_ARGUMENT), or 11
// (OUT_OF_RANGE) for a body over the limit.
func WriteRequestStatus(w http.ResponseWriter, err error) {
	var re *httpx.RequestError
	var de *decode.Error
	switch {
	case errors.As(err, &re):
		code := CodeInvalidArgument
		if re.Status == http.StatusRequestEntityTooLarge {
			code = CodeOutOfRange
		}
		WriteStatus(w, re.Status, code, re.Message)
	case errors.As(err, &de):
		WriteStatus(w, http.StatusBadRequest, CodeInvalidArgument, de.Message)
	default:
		WriteStatus(w, http.StatusBadRequest, CodeInvalidArgument, err.Error())
	}
}
