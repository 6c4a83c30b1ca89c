package iampolicy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/tollgate-dev/tollgate/internal/dev/samtranslate"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// Denial is a call a function's role does not allow.
type Denial struct {
	Function string
	Action   string
	Resource string
	Reason   string // the decision, or why the call could not be checked
}

func (d Denial) String() string {
	return fmt.Sprintf("%s is not allowed %s on %s (%s)", d.Function, d.Action, d.Resource, d.Reason)
}

// Guard holds the functions of one local stack to their roles: it answers
// a call a role does not allow as AWS would (AccessDenied) and records it,
// and it records, for the whole test binary, which grants calls used.
type Guard struct {
	roles   map[string]*Role
	hashKey KeySchema

	mu      sync.Mutex
	denials []Denial
}

// NewGuard checks calls against roles; hashKey names tables' partition
// keys (dynamodb:LeadingKeys), nil when no policy uses them.
func NewGuard(roles map[string]*Role, hashKey KeySchema) *Guard {
	return &Guard{roles: roles, hashKey: hashKey}
}

var (
	expanded   = map[string]*samtranslate.Template{}
	expandedMu sync.Mutex
)

// Load expands the template at path (once per test binary) and reads its
// roles for the local names l gives, and the partition keys of its tables.
func Load(ctx context.Context, path string, l Locals) (map[string]*Role, KeySchema, error) {
	if l.TableName == nil {
		l.TableName = func(id string) string { return id }
	}
	expandedMu.Lock()
	t, ok := expanded[path]
	if !ok {
		var err error
		if t, err = samtranslate.Load(ctx, path, l.Params); err != nil {
			expandedMu.Unlock()
			return nil, nil, fmt.Errorf("iam: expand %s: %w", path, err)
		}
		expanded[path] = t
	}
	expandedMu.Unlock()
	roles, err := Roles(t, l)
	if err != nil {
		return nil, nil, fmt.Errorf("iam: roles of %s: %w", path, err)
	}
	once.Do(func() { canonical, canonicalErr = Roles(t, Locals{Params: l.Params}) })
	hash := map[string]string{}
	for _, id := range t.OfType("AWS::DynamoDB::Table") {
		var p struct {
			KeySchema []struct{ AttributeName, KeyType string }
		}
		if err := json.Unmarshal(t.Resources[id].Properties, &p); err != nil {
			return nil, nil, fmt.Errorf("iam: table %s: %w", id, err)
		}
		for _, k := range p.KeySchema {
			if k.KeyType == "HASH" {
				hash[TableARN(l.TableName(id))] = k.AttributeName
			}
		}
	}
	return roles, func(table string) string { return hash[tableResource(table)] }, nil
}

// NewStackGuard guards the functions of a local stack built from the
// template at path, its tables named as l names them.
func NewStackGuard(ctx context.Context, path string, l Locals) (*Guard, error) {
	roles, hash, err := Load(ctx, path, l)
	if err != nil {
		return nil, err
	}
	return NewGuard(roles, hash), nil
}

// Role returns function fn's role.
func (g *Guard) Role(fn string) (*Role, bool) {
	r, ok := g.roles[fn]
	return r, ok
}

// Authorize evaluates every request of one call of function fn. The first
// request denied is recorded and returned as the AccessDenied error AWS
// gives; allowed ones mark the grants they used.
func (g *Guard) Authorize(fn string, reqs []Request) error {
	role, ok := g.roles[fn]
	if !ok {
		if len(reqs) == 0 {
			return nil
		}
		return g.deny(Denial{Function: fn, Action: reqs[0].Action, Resource: reqs[0].Resource, Reason: "the template has no role for this function"}, "")
	}
	for _, r := range reqs {
		res, err := Evaluate(role.Policies, r)
		if err != nil {
			return g.deny(Denial{Function: fn, Action: r.Action, Resource: r.Resource, Reason: err.Error()}, role.Caller)
		}
		if res.Decision != Allowed {
			return g.deny(Denial{Function: fn, Action: r.Action, Resource: r.Resource, Reason: res.Decision.String()}, role.Caller)
		}
		markUsed(fn, res.Grants)
	}
	return nil
}

func (g *Guard) deny(d Denial, caller string) error {
	g.mu.Lock()
	g.denials = append(g.denials, d)
	g.mu.Unlock()
	because := "no identity-based policy allows the " + d.Action + " action"
	if d.Reason == ExplicitDeny.String() {
		because = "an explicit deny in an identity-based policy"
	}
	return &smithy.GenericAPIError{
		Code:    "AccessDeniedException",
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because %s", caller, d.Action, d.Resource, because),
		Fault:   smithy.FaultClient,
	}
}

// Denials returns the calls denied so far.
func (g *Guard) Denials() []Denial {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Denial(nil), g.denials...)
}

// HTTPClient wraps the DynamoDB HTTP client of function fn: each call is
// authorized before it is sent; a denied one is answered as DynamoDB
// answers it (400 AccessDeniedException) without reaching the store.
func (g *Guard) HTTPClient(fn string, base aws.HTTPClient) aws.HTTPClient {
	return dynamoGuard{g: g, fn: fn, base: base}
}

type dynamoGuard struct {
	g    *Guard
	fn   string
	base aws.HTTPClient
}

func (d dynamoGuard) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, fmt.Errorf("iam: read the DynamoDB request: %w", err)
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	op := req.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	reqs, err := DynamoDBRequests(op, body, d.g.hashKey)
	if err == nil {
		err = d.g.Authorize(d.fn, reqs)
	} else {
		err = d.g.deny(Denial{Function: d.fn, Action: "dynamodb:" + op, Resource: "?", Reason: err.Error()}, "")
	}
	if err != nil {
		var denied *smithy.GenericAPIError
		if errors.As(err, &denied) {
			return accessDenied(req, denied.Message), nil
		}
		return nil, err
	}
	return d.base.Do(req)
}

// accessDenied is DynamoDB's answer to a call IAM denies.
func accessDenied(req *http.Request, msg string) *http.Response {
	body, _ := json.Marshal(map[string]string{"__type": "com.amazon.coral.service#AccessDeniedException", "Message": msg})
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/x-amz-json-1.0")
	rec.Header().Set("X-Amzn-Requestid", "iam-local-denied")
	rec.WriteHeader(http.StatusBadRequest)
	_, _ = rec.Write(body)
	resp := rec.Result()
	resp.Request = req
	return resp
}

// Variables of a function's deployed environment that name the secrets its
// code reads (shared/platform/deps, shared/payments, functions/platform/dispatch).
const (
	envSecretID        = "SECRET_ID"
	envStoreSecretPref = "STORE_SECRET_PREFIX"
)

// localSecretRef is how a stores file's plaintext webhook secret is named
// locally (stores.LocalSecretRef); deployed, the store names a secret
// under STORE_SECRET_PREFIX.
const localSecretRef = "local:"

// SecretRead checks that function fn may read the secret its deployed code
// names by the value of variable nameVar in its deployed environment,
// followed by suffix (SECRET_ID, MERCHANT_SECRET_PREFIX + merchant): what
// secretsmanager:GetSecretValue IAM evaluates, on the secret's ARN.
func (g *Guard) SecretRead(fn string) func(ctx context.Context, nameVar, suffix string) error {
	return func(_ context.Context, nameVar, suffix string) error {
		const action = "secretsmanager:GetSecretValue"
		role, ok := g.roles[fn]
		if !ok {
			return g.Authorize(fn, []Request{{Action: action, Resource: nameVar + suffix}})
		}
		v, set := role.Env[nameVar]
		if !set || v == "" {
			return g.deny(Denial{Function: fn, Action: action, Resource: nameVar + suffix,
				Reason: "its deployed environment has no " + nameVar + ", so the deployed code reads no such secret"}, role.Caller)
		}
		arn := v + suffix
		if !strings.HasPrefix(arn, "arn:") {
			arn = SecretARN(arn)
		}
		return g.Authorize(fn, []Request{{Action: action, Resource: arn}})
	}
}

// Secrets wraps function fn's key source: every read is checked as the
// deployed read of the secret it comes from (the keys secret SECRET_ID
// names; a store's webhook secret under STORE_SECRET_PREFIX), and a denied
// read fails as the deployed source fails.
func (g *Guard) Secrets(fn string, src secrets.Source) secrets.Source {
	return guardedSource{check: g.SecretRead(fn), src: src}
}

type guardedSource struct {
	check func(ctx context.Context, nameVar, suffix string) error
	src   secrets.Source
}

func (s guardedSource) Values(ctx context.Context, name secrets.Name) ([]string, error) {
	nameVar, suffix := envSecretID, ""
	if slug, ok := strings.CutPrefix(string(name), localSecretRef); ok {
		nameVar, suffix = envStoreSecretPref, slug
	}
	if err := s.check(ctx, nameVar, suffix); err != nil {
		return nil, fmt.Errorf("read secret %s: %w", nameVar+suffix, err)
	}
	return s.src.Values(ctx, name)
}

// Refresh implements secrets.Refresher when the wrapped source does.
func (s guardedSource) Refresh(ctx context.Context) (bool, error) {
	if r, ok := s.src.(secrets.Refresher); ok {
		return r.Refresh(ctx)
	}
	return false, nil
}

// The grants used by every stack of the test binary, by function, for the
// report of unused permissions (Unused).
var (
	usedMu       sync.Mutex
	used         = map[string]map[Grant]bool{}
	once         sync.Once
	canonical    map[string]*Role // the roles with tables named by logical id
	canonicalErr error
)

func markUsed(fn string, grants []Grant) {
	usedMu.Lock()
	defer usedMu.Unlock()
	if used[fn] == nil {
		used[fn] = map[Grant]bool{}
	}
	for _, g := range grants {
		used[fn][g] = true
	}
}

// Unused lists the permissions of the roles loaded so far (tables named
// by logical id) that no call of this test binary used; ok is false when
// no role was loaded (no stack was guarded).
func Unused() (perms []Permission, ok bool, err error) {
	if canonical == nil {
		return nil, false, canonicalErr
	}
	usedMu.Lock()
	defer usedMu.Unlock()
	for _, p := range Permissions(canonical) {
		if !used[p.Function][p.Grant] {
			perms = append(perms, p)
		}
	}
	sort.Slice(perms, func(i, j int) bool { return perms[i].String() < perms[j].String() })
	return perms, true, nil
}
