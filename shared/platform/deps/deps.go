// Package deps builds what every function needs — the store, the key
// source, a logger, the clock — from the environment a Lambda function is
// given, and reads its settings (Duration, PositiveInt, OneOf, String): one
// reader of environment settings for every function.
package deps

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// Deps are the dependencies a handler is built from.
type Deps struct {
	Store   dynamo.Store
	Secrets secrets.Source
	Logger  *slog.Logger
	// Getenv reads function-specific settings (os.Getenv in Lambda, the
	// template's environment locally).
	Getenv func(string) string
	Now    func() time.Time
	// CheckSecretRead, when set (local runs), is asked before a key is
	// read locally that the deployed function reads from Secrets Manager:
	// the secret is named by the deployed value of variable nameVar
	// followed by suffix (MERCHANT_SECRET_PREFIX + merchant). Its error is
	// what Secrets Manager answers the deployed function (its role may not
	// read that secret). nil in AWS, where Secrets Manager itself answers.
	CheckSecretRead func(ctx context.Context, nameVar, suffix string) error
	// LocalSecrets, in local runs, takes the secrets a function writes at
	// run time where a deployed one writes Secrets Manager (a store's
	// rotated webhook secret); Secrets serves them. nil in AWS.
	LocalSecrets *secrets.Local
}

// SecretRead runs CheckSecretRead, when set.
func (d Deps) SecretRead(ctx context.Context, nameVar, suffix string) error {
	if d.CheckSecretRead == nil {
		return nil
	}
	return d.CheckSecretRead(ctx, nameVar, suffix)
}

// Environment variables read by FromEnv (besides the store's).
const (
	EnvSecretID       = "SECRET_ID"        // ARN or name of the Secrets Manager secret; unset: keys from env vars
	EnvSecretCacheTTL = "SECRET_CACHE_TTL" //nolint:gosec // G101: a variable's name, not a secret. Go duration, default 5m
	EnvLogLevel       = "LOG_LEVEL"        // debug, info, warn, error
)

// NewLogger returns the JSON logger every function and tool uses.
func NewLogger(w io.Writer, level string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: LogLevel(level)}))
}

// LogLevel is the level LOG_LEVEL names (debug, info, warn, error; any
// case), INFO when it names none.
func LogLevel(level string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// FromEnv builds Deps the way a deployed function does: tables and endpoint
// from the environment, keys from the Secrets Manager secret named by
// SECRET_ID or, when it is unset (sam local invoke), from the key variables.
func FromEnv(ctx context.Context, getenv func(string) string) (Deps, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	logger := NewLogger(os.Stdout, getenv(EnvLogLevel))
	tables, err := dynamo.TablesFromEnv(getenv)
	if err != nil {
		return Deps{}, err
	}
	db, err := dynamo.NewClient(ctx, dynamo.ClientOptions{Endpoint: getenv(dynamo.EnvEndpoint)})
	if err != nil {
		return Deps{}, err
	}
	var src secrets.Source = secrets.FromEnv(getenv)
	if id := getenv(EnvSecretID); id != "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return Deps{}, fmt.Errorf("load AWS config: %w", err)
		}
		ttl, err := Deps{Getenv: getenv}.Duration(EnvSecretCacheTTL, secrets.DefaultTTL)
		if err != nil {
			return Deps{}, err
		}
		src = secrets.NewSecretsManager(secretsmanager.NewFromConfig(cfg), id,
			secrets.WithTTL(ttl),
			secrets.WithErrorHandler(func(err error) {
				logger.Warn("secret refresh failed; serving the cached keys", "error", err)
			}))
	}
	return Deps{
		Store:   dynamo.Store{DB: db, Tables: tables},
		Secrets: src,
		Logger:  logger,
		Getenv:  getenv,
		Now:     time.Now,
	}, nil
}
