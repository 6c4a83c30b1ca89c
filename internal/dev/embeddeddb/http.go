package embeddeddb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// operation decodes a request body and runs it.
type operation func(e *Engine, ctx context.Context, body io.Reader) (any, error)

// op adapts an Engine method to an operation.
func op[I any, O any](f func(*Engine, context.Context, *I) (O, error)) operation {
	return func(e *Engine, ctx context.Context, body io.Reader) (any, error) {
		in := new(I)
		if err := json.NewDecoder(body).Decode(in); err != nil {
			return nil, &smithy.GenericAPIError{Code: "SerializationException", Message: err.Error()}
		}
		return f(e, ctx, in)
	}
}

var operations = map[string]operation{
	"CreateTable":        op((*Engine).CreateTable),
	"DescribeTable":      op((*Engine).DescribeTable),
	"DeleteTable":        op((*Engine).DeleteTable),
	"GetItem":            op((*Engine).GetItem),
	"PutItem":            op((*Engine).PutItem),
	"DeleteItem":         op((*Engine).DeleteItem),
	"UpdateItem":         op((*Engine).UpdateItem),
	"Query":              op((*Engine).Query),
	"Scan":               op((*Engine).Scan),
	"BatchGetItem":       op((*Engine).BatchGetItem),
	"BatchWriteItem":     op((*Engine).BatchWriteItem),
	"TransactGetItems":   op((*Engine).TransactGetItems),
	"TransactWriteItems": op((*Engine).TransactWriteItems),
}

// ServeHTTP answers DynamoDB's JSON protocol (the operation named by
// X-Amz-Target), as minidyn's server does.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	defer r.Body.Close()
	target := r.Header.Get("X-Amz-Target")
	name := target[strings.LastIndexByte(target, '.')+1:]
	run, ok := operations[name]
	if !ok {
		http.Error(w, "unsupported operation", http.StatusBadRequest)
		return
	}
	out, err := run(e, r.Context(), r.Body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// reasonWire is a cancellation reason on the wire.
type reasonWire struct {
	Code    string `json:"Code"`
	Message string `json:"Message,omitempty"`
	Item    item   `json:"Item,omitempty"`
}

// writeError answers err as DynamoDB does: its type in __type, a 500 for
// an internal server error and a 400 otherwise.
func writeError(w http.ResponseWriter, err error) {
	if tce, ok := errors.AsType[*ddbtypes.TransactionCanceledException](err); ok {
		reasons := make([]reasonWire, len(tce.CancellationReasons))
		for i, r := range tce.CancellationReasons {
			reasons[i] = reasonWire{Code: aws.ToString(r.Code), Message: aws.ToString(r.Message), Item: toWire(r.Item)}
		}
		writeJSON(w, http.StatusBadRequest, struct {
			Type                string       `json:"__type"`
			Message             string       `json:"message"`
			CancellationReasons []reasonWire `json:"CancellationReasons"`
		}{"TransactionCanceledException", aws.ToString(tce.Message), reasons})
		return
	}
	if ccf, ok := errors.AsType[*ddbtypes.ConditionalCheckFailedException](err); ok {
		writeJSON(w, http.StatusBadRequest, struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Item    item   `json:"Item,omitempty"`
		}{"ConditionalCheckFailedException", aws.ToString(ccf.Message), toWire(ccf.Item)})
		return
	}
	typ, msg, status := "InternalFailure", err.Error(), http.StatusBadRequest
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		typ, msg = apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	if typ == "InternalServerError" {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{typ, msg})
}

// toWire converts the SDK's attribute values (in minidyn's errors) to the
// wire form.
func toWire(m map[string]ddbtypes.AttributeValue) item {
	if len(m) == 0 {
		return nil
	}
	out := make(item, len(m))
	for k, v := range m {
		out[k] = valueToWire(v)
	}
	return out
}

func valueToWire(v ddbtypes.AttributeValue) *av {
	switch x := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return &av{S: aws.String(x.Value)}
	case *ddbtypes.AttributeValueMemberN:
		return &av{N: aws.String(x.Value)}
	case *ddbtypes.AttributeValueMemberB:
		return &av{B: x.Value}
	case *ddbtypes.AttributeValueMemberBOOL:
		return &av{BOOL: aws.Bool(x.Value)}
	case *ddbtypes.AttributeValueMemberNULL:
		return &av{NULL: aws.Bool(x.Value)}
	case *ddbtypes.AttributeValueMemberSS:
		return &av{SS: aws.StringSlice(x.Value)}
	case *ddbtypes.AttributeValueMemberNS:
		return &av{NS: aws.StringSlice(x.Value)}
	case *ddbtypes.AttributeValueMemberBS:
		return &av{BS: x.Value}
	case *ddbtypes.AttributeValueMemberL:
		l := make([]*av, len(x.Value))
		for i, e := range x.Value {
			l[i] = valueToWire(e)
		}
		return &av{L: l}
	case *ddbtypes.AttributeValueMemberM:
		m := toWire(x.Value)
		if m == nil {
			m = item{}
		}
		return &av{M: m}
	}
	return &av{NULL: aws.Bool(true)}
}

// Transport returns an http.RoundTripper that hands each request to the
// engine's ServeHTTP in process: the SDK still serializes every request
// and parses every answer, without a socket in between.
func (e *Engine) Transport() http.RoundTripper { return inProcess{e} }

type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("embedded DynamoDB: %w", err)
	}
	if req.Body == nil {
		req.Body = http.NoBody
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	t.h.ServeHTTP(rec, req)
	return &http.Response{
		Status:        strconv.Itoa(rec.status) + " " + http.StatusText(rec.status),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(&rec.body),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}

// recorder is the http.ResponseWriter of an in-process round trip.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	return r.body.Write(b)
}
