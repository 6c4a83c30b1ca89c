package ddbtest

import (
	"net/http"
	"testing"

	"github.com/tollgate-dev/tollgate/functions"
	"github.com/tollgate-dev/tollgate/internal/dev/contract"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// Env is a test's local Tollgate on one backend: the stack, the Transport
// every DynamoDB call of the stack and its functions goes through, and the
// local names of the template's tables. Its functions are built as the
// local runner builds them (from template.yaml and functions.Constructors),
// so a test exercises what is deployed, settings included.
type Env struct {
	Stack     *localenv.Stack
	Transport *Transport
	Tables    dynamo.Tables
}

// NewEnv stands up a stack (NewStack) whose DynamoDB client sends through
// o.Transport, a new Transport when nil. o.Env is read on every lookup, so
// a test may change it before building a function.
func NewEnv(t testing.TB, b Backend, o StackOptions) *Env {
	t.Helper()
	if o.Transport == nil {
		o.Transport = NewTransport()
	}
	s := NewStack(t, b, o)
	return &Env{Stack: s, Transport: o.Transport, Tables: tables(s)}
}

// NewFunction stands up a stack (NewEnv) and builds function id's handler
// on it: the one-call setup of a handler test.
func NewFunction(t testing.TB, b Backend, id string, o StackOptions) (*Env, http.Handler) {
	t.Helper()
	e := NewEnv(t, b, o)
	return e, e.Handler(t, id)
}

// Deps returns function id's dependencies as the local runner gives them:
// its template environment under StackOptions.Env, the stack's tables,
// keys, logger and clock.
func (e *Env) Deps(t testing.TB, id string) deps.Deps {
	t.Helper()
	d, err := e.Stack.Deps(id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Handler serves function id alone as the local runner does — its template
// routes behind the API Gateway stand-in, its real Lambda entry — held to
// the API contract (Checked). A request on no route of id's is API
// Gateway's 404.
func (e *Env) Handler(t testing.TB, id string) http.Handler {
	t.Helper()
	g, err := e.Stack.Gateway(functions.Constructors, id)
	if err != nil {
		t.Fatal(err)
	}
	return Checked(t, g)
}

// Router mounts every function on its template routes, as the local runner
// serves them, held to the API contract (Checked).
func (e *Env) Router(t testing.TB) http.Handler {
	t.Helper()
	return Router(t, e.Stack)
}

// Router mounts every function of stack on its template routes, held to the
// API contract (Checked).
func Router(t testing.TB, stack *localenv.Stack) http.Handler {
	t.Helper()
	r, err := stack.Router(functions.Constructors)
	if err != nil {
		t.Fatal(err)
	}
	return Checked(t, r)
}

// Checked wraps h with contract.Check in tests, so every request a test
// sends and every answer it gets is held to shared/platform/openapi/openapi.yaml.
// Benchmarks get h itself: they measure the handler, not the validator.
func Checked(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	if _, bench := t.(*testing.B); bench {
		return h
	}
	return contract.Check(t, h)
}

// tables names the tables the template's functions are given.
func tables(s *localenv.Stack) dynamo.Tables {
	logical := map[string]string{}
	for _, fn := range s.Template.Functions {
		for env, table := range fn.TableEnv {
			logical[env] = table
		}
	}
	name := func(env string) string {
		if id := logical[env]; id != "" {
			return s.TableName(id)
		}
		return ""
	}
	return dynamo.Tables{Players: name(dynamo.EnvPlayersTable), Transactions: name(dynamo.EnvTransactionsTable), Catalog: name(dynamo.EnvCatalogTable), Outbox: name(dynamo.EnvOutboxTable),
		Payments: name(dynamo.EnvPaymentsTable), Stores: name(dynamo.EnvStoresTable), RateLimit: name(dynamo.EnvRateLimitTable),
		Checkout: name(dynamo.EnvCheckoutTable), Portal: name(dynamo.EnvPortalTable)}
}
