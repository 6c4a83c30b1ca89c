// Package lambdahttp runs a function's http.Handler on AWS Lambda behind an
// API Gateway HTTP API (payload format 2.0), through aws-lambda-go-api-proxy.
package lambdahttp

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/tollgate-dev/tollgate/shared/httpx"
	"github.com/tollgate-dev/tollgate/shared/platform"
)

// Handler is the signature of an HTTP API Lambda entry.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

type pathParamsKey struct{}

// Entry adapts h to an HTTP API event. The route's path parameters, which API
// Gateway has already matched against the template's route, are handed to h
// as r.PathValue, exactly as the local runner's ServeMux does.
func Entry(function string, logger *slog.Logger, h http.Handler) Handler {
	observed := httpx.Observe(logger, function, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if params, ok := r.Context().Value(pathParamsKey{}).(map[string]string); ok {
			for k, v := range params {
				r.SetPathValue(k, v)
			}
		}
		h.ServeHTTP(w, r)
	}))
	adapter := httpadapter.NewV2(observed)
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return adapter.ProxyWithContext(context.WithValue(ctx, pathParamsKey{}, ev.PathParameters), ev)
	}
}

// Run is the whole main of a function: it builds the dependencies from the
// environment, the handler from them, and serves Lambda invocations.
func Run(function string, newHandler platform.Constructor) {
	ctx := context.Background()
	deps, err := platform.FromEnv(ctx, nil)
	if err != nil {
		platform.NewLogger(os.Stderr, "").Error("function setup failed", "function", function, "error", err)
		os.Exit(1)
	}
	h, err := newHandler(deps)
	if err != nil {
		deps.Logger.Error("handler setup failed", "function", function, "error", err)
		os.Exit(1)
	}
	lambda.Start(Entry(function, deps.Logger, h))
}
