// Package dynamo is Tollgate's access to DynamoDB: the client, the table
// names, the writers of attributes and transaction items, and Transact,
// which runs one TransactWriteItems and names the conditions that failed.
//
// Every exactly-once effect in Tollgate is a TransactWriteItems that writes
// an idempotency item (conditional on it being new, or on its state)
// together with the effect's own writes, so a retry that finds the item
// writes nothing. ApplyOnce is that rule for one shape of it: the item is a
// Record in the transactions table, new per key, holding the answer; a
// retry with the same fingerprint is answered that answer, one with
// another fingerprint is a Conflict. Stash's register and authorize use it.
// The others build the same rule on Transact because their shape differs:
//
//   - Stash's confirm and cancel change the state of the record register
//     wrote (a conditional update, not a new record); a Stash refund's
//     record has no answer to replay (a second delivery is a duplicate).
//   - payments (Charge, Refund) replay and refuse as ApplyOnce does, but
//     call a PSP between two transactions: a pending record with a lease
//     before the call, the answer after it. No single transaction can hold
//     a call outside DynamoDB.
//   - stores.Fulfil's record is the order itself, in the stores table with
//     its fingerprint; a replay reads the order's license keys again (they
//     are never stored in an answer), after the key and rate-limit checks.
//   - checkout's records live in the checkout table: a notification's is
//     keyed by the PSP's event id (no fingerprint, nothing to replay: a
//     redelivery is a duplicate), and placing an order reads back what a
//     double click placed.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
)

// Attribute names shared by every table: a partition key and, where the table
// has one, a sort key.
const (
	AttrPK = "pk"
	AttrSK = "sk"
	// AttrExpiresAt is the TTL attribute (epoch seconds) of tables whose
	// records expire.
	AttrExpiresAt = "expiresAt"
	// AttrCreatedAt is when a record was written (Timestamp).
	AttrCreatedAt = "createdAt"
)

// Tables holds the physical table names, which CloudFormation generates and
// passes to each function in environment variables.
type Tables struct {
	Players      string // inventory rows per player (PLAYERS_TABLE)
	Transactions string // idempotency records of purchases (TRANSACTIONS_TABLE)
	Catalog      string // products, prices, stock counters (CATALOG_TABLE; only functions that sell need it)
	Outbox       string // events owed to notification URLs (OUTBOX_TABLE; shared/platform/outbox)
	Payments     string // merchants, keys, aliases, payment transactions (PAYMENTS_TABLE; shared/payments)
	Stores       string // stores, store API keys, products, license-key pools, orders (STORES_TABLE; shared/storefront/stores)
	RateLimit    string // request counters per key or client and window (RATE_LIMIT_TABLE; shared/storefront/ratelimit)
	Checkout     string // checkout sessions, intents, Stripe event records (CHECKOUT_TABLE; shared/storefront/checkout)
	Portal       string // partner-portal members, sessions, passkeys, invitations, audit (PORTAL_TABLE; shared/storefront/portal)
}

// Environment variables naming the tables.
const (
	EnvPlayersTable      = "PLAYERS_TABLE"
	EnvTransactionsTable = "TRANSACTIONS_TABLE"
	EnvCatalogTable      = "CATALOG_TABLE"
	EnvOutboxTable       = "OUTBOX_TABLE"
	EnvPaymentsTable     = "PAYMENTS_TABLE"
	EnvStoresTable       = "STORES_TABLE"
	EnvRateLimitTable    = "RATE_LIMIT_TABLE"
	EnvCheckoutTable     = "CHECKOUT_TABLE"
	EnvPortalTable       = "PORTAL_TABLE"
	EnvEndpoint          = "DYNAMODB_ENDPOINT"
)

// TablesFromEnv reads the table names: the players and transactions tables
// must be set; the catalog table only where a function sells (catalog.New
// refuses to start without it).
func TablesFromEnv(getenv func(string) string) (Tables, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	t := Tables{Players: getenv(EnvPlayersTable), Transactions: getenv(EnvTransactionsTable), Catalog: getenv(EnvCatalogTable), Outbox: getenv(EnvOutboxTable),
		Payments: getenv(EnvPaymentsTable), Stores: getenv(EnvStoresTable), RateLimit: getenv(EnvRateLimitTable),
		Checkout: getenv(EnvCheckoutTable), Portal: getenv(EnvPortalTable)}
	var missing []string
	if t.Players == "" {
		missing = append(missing, EnvPlayersTable)
	}
	if t.Transactions == "" {
		missing = append(missing, EnvTransactionsTable)
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("table names not configured: %v unset", missing)
	}
	return t, nil
}

// Store runs Tollgate's writes against its tables.
type Store struct {
	DB     *dynamodb.Client
	Tables Tables
}

// ClientOptions tunes NewClient. The zero value is right for Lambda.
type ClientOptions struct {
	// Endpoint, when set, points the client at a DynamoDB-compatible server
	// (minidyn, moto_server, DynamoDB Local). Credentials default to static
	// dummy ones and the region to us-east-1 unless the environment sets them.
	Endpoint string
	// HTTPClient replaces the SDK's HTTP client (tests use it to count calls
	// and inject faults).
	HTTPClient aws.HTTPClient
	// MaxAttempts overrides the SDK's retry attempts (0 keeps its default of 3).
	MaxAttempts int
}

// NewClient returns a DynamoDB client from the default AWS configuration.
// Every call it sends (each attempt, retries included) is added to the
// ddbcalls.Counter of the call's context, if any.
func NewClient(ctx context.Context, o ClientOptions) (*dynamodb.Client, error) {
	var loadOpts []func(*config.LoadOptions) error
	if o.Endpoint != "" {
		if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			loadOpts = append(loadOpts, config.WithRegion("us-east-1"))
		}
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
			loadOpts = append(loadOpts, config.WithCredentialsProvider(
				credentials.NewStaticCredentialsProvider("local", "local", "")))
		}
	}
	if o.MaxAttempts > 0 {
		loadOpts = append(loadOpts, config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = o.MaxAttempts })
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	return dynamodb.NewFromConfig(cfg, func(do *dynamodb.Options) {
		do.APIOptions = append(do.APIOptions, countCalls)
		if o.HTTPClient != nil {
			do.HTTPClient = o.HTTPClient
		}
		if o.Endpoint != "" {
			do.BaseEndpoint = aws.String(o.Endpoint)
			// Emulators send no X-Amz-Crc32; the SDK's validator then
			// warns on every response.
			do.DisableValidateResponseChecksum = true
		}
	}), nil
}

// countCalls adds the call-counting middleware at the end of the Finalize
// step: after the retry middleware, so it runs once per attempt, just before
// the request is sent.
func countCalls(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("TollgateCountCalls",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			ddbcalls.FromContext(ctx).Add()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

// ErrNotFound is returned when a record expected to exist is missing.
var ErrNotFound = errors.New("record not found")
