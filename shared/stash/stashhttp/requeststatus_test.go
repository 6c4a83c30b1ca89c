package stashhttp_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dev/contract"
	"github.com/tollgate-dev/tollgate/shared/platform/decode"
	"github.com/tollgate-dev/tollgate/shared/platform/httpx"
	"github.com/tollgate-dev/tollgate/shared/stash/stashhttp"
)

// TestWriteRequestStatus: a request that cannot be read or decoded answers
// 400 code 3 (a body over the limit 413 code 11), with the refusal's own
// message even when it is wrapped.
func TestWriteRequestStatus(t *testing.T) {
	schema := contract.MustLoad(t)
	_, tooLarge := httpx.ReadBody(httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789")), 4)
	tests := []struct {
		name string
		err  error
		want string
		code int
	}{
		{"decode error", decode.Errorf("missing field %q", "playerId"), `{"code":3,"message":"missing field \"playerId\"","details":[]}`, http.StatusBadRequest},
		{"wrapped decode error", fmt.Errorf("register: %w", decode.Errorf("field %q bad", "x")), `{"code":3,"message":"field \"x\" bad","details":[]}`, http.StatusBadRequest},
		{"decode.Unmarshal", decode.Unmarshal([]byte(`{`), &struct{}{}), `{"code":3,"message":"malformed JSON: unexpected end of input","details":[]}`, http.StatusBadRequest},
		{"bad request", httpx.BadRequest("request must be JSON"), `{"code":3,"message":"request must be JSON","details":[]}`, http.StatusBadRequest},
		{"body over the limit", tooLarge, `{"code":11,"message":"request body is larger than 4 bytes","details":[]}`, http.StatusRequestEntityTooLarge},
		{"any other error", errors.New("plain problem"), `{"code":3,"message":"plain problem","details":[]}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			stashhttp.WriteRequestStatus(rec, tt.err)
			if rec.Code != tt.code || rec.Body.String() != tt.want {
				t.Errorf("answer %d %s, want %d %s", rec.Code, rec.Body, tt.code, tt.want)
			}
			if err := schema.ValidateComponent("rpcStatus", rec.Body.Bytes()); err != nil {
				t.Error(err)
			}
		})
	}
}
