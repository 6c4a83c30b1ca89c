package secrets_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// countingClient wraps the real Secrets Manager client, counting
// GetSecretValue calls and failing them on demand.
type countingClient struct {
	next  secrets.SecretsManagerAPI
	calls atomic.Int64
	fail  atomic.Bool

	mu     sync.Mutex
	stages []string
}

var errInjected = errors.New("injected: secrets manager unavailable")

func (c *countingClient) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	c.calls.Add(1)
	c.mu.Lock()
	c.stages = append(c.stages, aws.ToString(in.VersionStage))
	c.mu.Unlock()
	if c.fail.Load() {
		return nil, errInjected
	}
	return c.next.GetSecretValue(ctx, in, opts...)
}

func (c *countingClient) Calls() int64 { return c.calls.Load() }

func (c *countingClient) Stages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.stages...)
}

// smEnv is one test's secret on moto.
type smEnv struct {
	t      *testing.T
	client *secretsmanager.Client
	count  *countingClient
	clock  *fakeClock
	secret string
}

var secretSeq atomic.Int64

var unsafeSecretChars = regexp.MustCompile(`[^A-Za-z0-9/_+=.@-]`)

// newSMEnv connects to moto (skipping when it is not installed) and picks a
// secret name no other test uses. The secret is not created.
func newSMEnv(t *testing.T) *smEnv {
	t.Helper()
	url, ok := ddbtest.Moto(t)
	if !ok {
		t.Skip("moto_server is not installed")
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
	)
	if err != nil {
		t.Fatalf("load AWS config: %v", err)
	}
	client := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(url)
	})
	name := unsafeSecretChars.ReplaceAllString(t.Name(), "-")
	if len(name) > 200 {
		name = name[:200]
	}
	name = fmt.Sprintf("tollgate-test/%d/%s", secretSeq.Add(1), name)
	t.Cleanup(func() {
		_, _ = client.DeleteSecret(context.Background(), &secretsmanager.DeleteSecretInput{
			SecretId:                   aws.String(name),
			ForceDeleteWithoutRecovery: aws.Bool(true),
		})
	})
	return &smEnv{
		t:      t,
		client: client,
		count:  &countingClient{next: client},
		clock:  newFakeClock(),
		secret: name,
	}
}

func (e *smEnv) create(value string) {
	e.t.Helper()
	_, err := e.client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(e.secret),
		SecretString: aws.String(value),
	})
	if err != nil {
		e.t.Fatalf("create secret %s: %v", e.secret, err)
	}
}

func (e *smEnv) createJSON(fields map[string]string) { e.create(mustJSON(e.t, fields)) }

// rotate puts a new AWSCURRENT version; moto moves the old one to AWSPREVIOUS.
func (e *smEnv) rotate(fields map[string]string) {
	e.t.Helper()
	_, err := e.client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(e.secret),
		SecretString: aws.String(mustJSON(e.t, fields)),
	})
	if err != nil {
		e.t.Fatalf("put secret value %s: %v", e.secret, err)
	}
}

func (e *smEnv) source(opts ...secrets.SecretsManagerOption) *secrets.SecretsManager {
	opts = append([]secrets.SecretsManagerOption{secrets.WithClock(e.clock.Now)}, opts...)
	return secrets.NewSecretsManager(e.count, e.secret, opts...)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func values(t *testing.T, src secrets.Source, name secrets.Name) []string {
	t.Helper()
	got, err := src.Values(context.Background(), name)
	if err != nil {
		t.Fatalf("Values(%s): %v", name, err)
	}
	return got
}

func wantValues(t *testing.T, src secrets.Source, name secrets.Name, want ...string) {
	t.Helper()
	if got := values(t, src, name); !reflect.DeepEqual(got, want) {
		t.Errorf("Values(%s) = %q, want %q", name, got, want)
	}
}

func wantCalls(t *testing.T, c *countingClient, want int64) {
	t.Helper()
	if got := c.Calls(); got != want {
		t.Errorf("GetSecretValue calls = %d, want %d (stages %v)", got, want, c.Stages())
	}
}

// The source satisfies both interfaces Keys relies on.
var (
	_ secrets.Source    = (*secrets.SecretsManager)(nil)
	_ secrets.Refresher = (*secrets.SecretsManager)(nil)
)

func TestSecretsManagerReadsJSONSecret(t *testing.T) {
	e := newSMEnv(t)
	e.createJSON(map[string]string{
		"stashApiKey":        "k1",
		"stashEgressKey":     "egress-1",
		"gameServerKey":      "game-1",
		"stashWebhookSecret": "", // present but empty: not configured
		"someOtherField":     "ignored",
	})
	src := e.source()
	tests := []struct {
		name secrets.Name
		want []string
	}{
		{secrets.StashAPIKey, []string{"k1"}},
		{secrets.StashEgressKey, []string{"egress-1"}},
		{secrets.GameServerKey, []string{"game-1"}},
		{secrets.StashWebhookSecret, nil},
		{secrets.Name("notInTheSecret"), nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.name), func(t *testing.T) {
			wantValues(t, src, tt.name, tt.want...)
		})
	}
	// One load (AWSCURRENT, then AWSPREVIOUS) served every name.
	wantCalls(t, e.count, 2)
	if got, want := e.count.Stages(), []string{"AWSCURRENT", "AWSPREVIOUS"}; !reflect.DeepEqual(got, want) {
		t.Errorf("stages read = %v, want %v", got, want)
	}
}

func TestSecretsManagerBeforeRotationOnlyCurrent(t *testing.T) {
	e := newSMEnv(t)
	e.createJSON(map[string]string{"stashApiKey": "k1", "gameServerKey": "g1"})
	var handled []error
	src := e.source(secrets.WithErrorHandler(func(err error) { handled = append(handled, err) }))

	wantValues(t, src, secrets.StashAPIKey, "k1")
	wantValues(t, src, secrets.GameServerKey, "g1")
	// AWSPREVIOUS does not exist yet: that is not an error.
	if len(handled) != 0 {
		t.Errorf("error handler called before any rotation: %v", handled)
	}
}

func TestSecretsManagerRotation(t *testing.T) {
	const ttl = time.Minute
	tests := []struct {
		name      string
		advance   time.Duration
		wantAPI   []string
		wantGame  []string
		wantCalls int64
	}{
		{
			name:      "just inside TTL serves the cached value",
			advance:   ttl - time.Nanosecond,
			wantAPI:   []string{"k1"},
			wantGame:  []string{"g1"},
			wantCalls: 2,
		},
		{
			name:      "at TTL re-reads: new then old",
			advance:   ttl,
			wantAPI:   []string{"k2", "k1"},
			wantGame:  []string{"g1"}, // unchanged across the rotation: listed once
			wantCalls: 4,
		},
		{
			name:      "well past TTL re-reads: new then old",
			advance:   10 * ttl,
			wantAPI:   []string{"k2", "k1"},
			wantGame:  []string{"g1"},
			wantCalls: 4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMEnv(t)
			e.createJSON(map[string]string{"stashApiKey": "k1", "gameServerKey": "g1"})
			src := e.source(secrets.WithTTL(ttl))
			wantValues(t, src, secrets.StashAPIKey, "k1")
			wantCalls(t, e.count, 2)

			e.rotate(map[string]string{"stashApiKey": "k2", "gameServerKey": "g1"})
			e.clock.Advance(tt.advance)
			wantValues(t, src, secrets.StashAPIKey, tt.wantAPI...)
			wantValues(t, src, secrets.GameServerKey, tt.wantGame...)
			wantCalls(t, e.count, tt.wantCalls)
		})
	}
}

func TestSecretsManagerSecondRotationDropsOldest(t *testing.T) {
	e := newSMEnv(t)
	e.createJSON(map[string]string{"stashApiKey": "k1"})
	src := e.source(secrets.WithTTL(time.Minute))
	wantValues(t, src, secrets.StashAPIKey, "k1")

	e.rotate(map[string]string{"stashApiKey": "k2"})
	e.clock.Advance(time.Minute)
	wantValues(t, src, secrets.StashAPIKey, "k2", "k1")

	e.rotate(map[string]string{"stashApiKey": "k3"})
	e.clock.Advance(time.Minute)
	wantValues(t, src, secrets.StashAPIKey, "k3", "k2")
}

func TestSecretsManagerKeyAddedOrRemovedByRotation(t *testing.T) {
	e := newSMEnv(t)
	e.createJSON(map[string]string{"stashApiKey": "k1"})
	src := e.source(secrets.WithTTL(time.Minute))
	wantValues(t, src, secrets.GameServerKey)

	e.rotate(map[string]string{"gameServerKey": "g1"})
	e.clock.Advance(time.Minute)
	wantValues(t, src, secrets.GameServerKey, "g1")
	// Removed from the current version, still accepted from the previous one.
	wantValues(t, src, secrets.StashAPIKey, "k1")
}

func TestSecretsManagerCachesWithinTTL(t *testing.T) {
	const ttl = 5 * time.Minute
	e := newSMEnv(t)
	e.createJSON(map[string]string{"stashApiKey": "k1", "gameServerKey": "g1"})
	src := e.source(secrets.WithTTL(ttl))

	wantValues(t, src, secrets.StashAPIKey, "k1")
	wantCalls(t, e.count, 2)

	e.rotate(map[string]string{"stashApiKey": "k2", "gameServerKey": "g2"})
	steps := []time.Duration{0, time.Second, time.Minute, ttl - time.Minute - time.Second - time.Nanosecond}
	for i, d := range steps {
		e.clock.Advance(d)
		wantValues(t, src, secrets.StashAPIKey, "k1")
		wantValues(t, src, secrets.GameServerKey, "g1")
		wantValues(t, src, secrets.StashWebhookSecret)
		if t.Failed() {
			t.Fatalf("step %d", i)
		}
	}
	wantCalls(t, e.count, 2)

	// Concurrent readers within TTL share the cache too.
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			got, err := src.Values(context.Background(), secrets.StashAPIKey)
			if err != nil || !reflect.DeepEqual(got, []string{"k1"}) {
				t.Errorf("concurrent Values = %q, %v", got, err)
			}
		})
	}
	wg.Wait()
	wantCalls(t, e.count, 2)
}

func TestSecretsManagerDefaultTTL(t *testing.T) {
	e := newSMEnv(t)
	e.createJSON(map[string]string{"stashApiKey": "k1"})
	src := e.source()
	wantValues(t, src, secrets.StashAPIKey, "k1")
	e.rotate(map[string]string{"stashApiKey": "k2"})

	e.clock.Advance(secrets.DefaultTTL - time.Nanosecond)
	wantValues(t, src, secrets.StashAPIKey, "k1")
	wantCalls(t, e.count, 2)

	e.clock.Advance(time.Nanosecond)
	wantValues(t, src, secrets.StashAPIKey, "k2", "k1")
	wantCalls(t, e.count, 4)
}

func TestSecretsManagerRefresh(t *testing.T) {
	const gap = 30 * time.Second
	tests := []struct {
		name          string
		loadFirst     bool
		advance       time.Duration
		wantRefreshed bool
		wantCalls     int64 // after the Refresh, including the first load
		wantAPI       []string
	}{
		{name: "never loaded reads", loadFirst: false, advance: 0, wantRefreshed: true, wantCalls: 2, wantAPI: []string{"k2", "k1"}},
		{name: "just loaded does not read", loadFirst: true, advance: 0, wantRefreshed: false, wantCalls: 2, wantAPI: []string{"k1"}},
		{name: "inside interval does not read", loadFirst: true, advance: gap - time.Nanosecond, wantRefreshed: false, wantCalls: 2, wantAPI: []string{"k1"}},
		{name: "at interval reads", loadFirst: true, advance: gap, wantRefreshed: true, wantCalls: 4, wantAPI: []string{"k2", "k1"}},
		{name: "past interval reads", loadFirst: true, advance: 2 * gap, wantRefreshed: true, wantCalls: 4, wantAPI: []string{"k2", "k1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMEnv(t)
			e.createJSON(map[string]string{"stashApiKey": "k1"})
			// A TTL far longer than the interval: only Refresh can pick up
			// the rotation.
			src := e.source(secrets.WithTTL(time.Hour), secrets.WithRefreshInterval(gap))
			if tt.loadFirst {
				wantValues(t, src, secrets.StashAPIKey, "k1")
			}
			e.rotate(map[string]string{"stashApiKey": "k2"})
			e.clock.Advance(tt.advance)

			refreshed, err := src.Refresh(context.Background())
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if refreshed != tt.wantRefreshed {
				t.Errorf("Refresh = %v, want %v", refreshed, tt.wantRefreshed)
			}
			wantCalls(t, e.count, tt.wantCalls)
			wantValues(t, src, secrets.StashAPIKey, tt.wantAPI...)
			wantCalls(t, e.count, tt.wantCalls) // served from what Refresh read
		})
	}
}

func TestSecretsManagerRefreshIntervalRestartsAfterRefresh(t *testing.T) {
	const gap = 30 * time.Second
	e := newSMEnv(t)
	e.createJSON(map[string]string{"stashApiKey": "k1"})
	src := e.source(secrets.WithTTL(time.Hour), secrets.WithRefreshInterval(gap))
	wantValues(t, src, secrets.StashAPIKey, "k1")

	e.clock.Advance(gap)
	if ok, err := src.Refresh(context.Background()); err != nil || !ok {
		t.Fatalf("first Refresh = %v, %v; want true", ok, err)
	}
	for _, d := range []time.Duration{0, time.Second, gap - time.Second - time.Nanosecond} {
		e.clock.Advance(d)
		if ok, err := src.Refresh(context.Background()); err != nil || ok {
			t.Fatalf("Refresh %v after the last read = %v, %v; want false", d, ok, err)
		}
	}
	wantCalls(t, e.count, 4)
	e.clock.Advance(time.Nanosecond)
	if ok, err := src.Refresh(context.Background()); err != nil || !ok {
		t.Fatalf("Refresh at the interval = %v, %v; want true", ok, err)
	}
	wantCalls(t, e.count, 6)
}

func TestSecretsManagerServesCacheWhenReadFails(t *testing.T) {
	const ttl = time.Minute
	e := newSMEnv(t)
	e.createJSON(map[string]string{"stashApiKey": "k1"})
	var mu sync.Mutex
	var handled []error
	src := e.source(secrets.WithTTL(ttl), secrets.WithErrorHandler(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		handled = append(handled, err)
	}))
	handledCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(handled)
	}
	wantValues(t, src, secrets.StashAPIKey, "k1")
	wantCalls(t, e.count, 2)

	// The secret rotates while Secrets Manager is unreachable.
	e.rotate(map[string]string{"stashApiKey": "k2"})
	e.count.fail.Store(true)
	e.clock.Advance(ttl)

	wantValues(t, src, secrets.StashAPIKey, "k1")
	wantCalls(t, e.count, 3) // AWSCURRENT failed; AWSPREVIOUS not tried
	if handledCount() != 1 {
		t.Fatalf("error handler called %d times, want 1", handledCount())
	}
	if !errors.Is(handled[0], errInjected) {
		t.Errorf("handled error %v does not wrap the read failure", handled[0])
	}
	if !strings.Contains(handled[0].Error(), e.secret) {
		t.Errorf("handled error %q does not name the secret %s", handled[0], e.secret)
	}

	// The failed attempt is stamped: the outage is not retried on every call.
	for range 5 {
		wantValues(t, src, secrets.StashAPIKey, "k1")
	}
	wantCalls(t, e.count, 3)
	if handledCount() != 1 {
		t.Errorf("error handler called %d times during the back-off, want 1", handledCount())
	}

	// Refresh surfaces the failure to its caller.
	e.clock.Advance(secrets.DefaultRefreshInterval)
	if ok, err := src.Refresh(context.Background()); ok || !errors.Is(err, errInjected) {
		t.Errorf("Refresh during the outage = %v, %v; want false and the read error", ok, err)
	}
	wantValues(t, src, secrets.StashAPIKey, "k1")

	// Recovery: the next read after the TTL picks up the rotation.
	e.count.fail.Store(false)
	e.clock.Advance(ttl)
	wantValues(t, src, secrets.StashAPIKey, "k2", "k1")
	// Refresh returned its error instead of handing it to the handler.
	if handledCount() != 1 {
		t.Errorf("error handler called %d times in all, want 1", handledCount())
	}
}

func TestSecretsManagerFirstReadFails(t *testing.T) {
	t.Run("injected failure", func(t *testing.T) {
		e := newSMEnv(t)
		e.createJSON(map[string]string{"stashApiKey": "k1"})
		handled := 0
		src := e.source(secrets.WithErrorHandler(func(error) { handled++ }))
		e.count.fail.Store(true)

		got, err := src.Values(context.Background(), secrets.StashAPIKey)
		if err == nil {
			t.Fatalf("Values = %q, nil; want an error", got)
		}
		if got != nil {
			t.Errorf("Values returned %q with its error", got)
		}
		if !errors.Is(err, errInjected) {
			t.Errorf("error %v does not wrap the read failure", err)
		}
		if handled != 0 {
			t.Errorf("error handler called %d times; the error was returned, not answered from a cache", handled)
		}
		if ok, err := src.Refresh(context.Background()); ok || !errors.Is(err, errInjected) {
			t.Errorf("Refresh before any load = %v, %v; want false and the read error", ok, err)
		}

		// Nothing cached yet: the next call tries again at once.
		e.count.fail.Store(false)
		wantValues(t, src, secrets.StashAPIKey, "k1")
	})

	t.Run("secret does not exist", func(t *testing.T) {
		e := newSMEnv(t) // never created
		src := e.source()
		got, err := src.Values(context.Background(), secrets.StashAPIKey)
		if err == nil {
			t.Fatalf("Values = %q, nil; want an error", got)
		}
		var notFound *smtypes.ResourceNotFoundException
		if !errors.As(err, &notFound) {
			t.Errorf("error %v is not a ResourceNotFoundException", err)
		}
		if !strings.Contains(err.Error(), e.secret) {
			t.Errorf("error %q does not name the secret", err)
		}
	})
}

// The values in these secrets must never appear in an error: the error is
// logged.
func TestSecretsManagerMalformedSecretDoesNotLeak(t *testing.T) {
	const leak = "Zq9xW7vKpL3m" // a value that must not appear in any error
	tests := []struct {
		name   string
		secret string
	}{
		{"plain text", leak},
		{"plain text with spaces", "the key is " + leak},
		{"JSON string", `"` + leak + `"`},
		{"JSON array", `["` + leak + `"]`},
		{"number value", `{"stashApiKey": 4242` + "424242" + `}`},
		{"object value", `{"stashApiKey": {"nested": "` + leak + `"}}`},
		{"array value", `{"stashApiKey": ["` + leak + `"]}`},
		{"bool value", `{"stashApiKey": true, "gameServerKey": "` + leak + `"}`},
		{"truncated", `{"stashApiKey": "` + leak},
		{"bad escape", `{"stashApiKey": "` + leak + `\q"}`},
		{"trailing comma", `{"stashApiKey": "` + leak + `",}`},
		{"unquoted value", `{"stashApiKey": ` + leak + `}`},
		{"single quotes", `{'stashApiKey': '` + leak + `'}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSMEnv(t)
			e.create(tt.secret)
			src := e.source()
			got, err := src.Values(context.Background(), secrets.StashAPIKey)
			if err == nil {
				t.Fatalf("Values = %q, nil; want an error", got)
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if strings.Contains(msg, tt.secret) {
				t.Errorf("error %q contains the whole secret", msg)
			}
			for _, frag := range fragments(leak, 4) {
				if strings.Contains(msg, frag) {
					t.Errorf("error %q contains %q, part of the secret's value", msg, frag)
					break
				}
			}
			if strings.Contains(msg, "424242") {
				t.Errorf("error %q contains the numeric value", msg)
			}
			if !strings.Contains(msg, e.secret) {
				t.Errorf("error %q does not name the secret", msg)
			}
		})
	}
}

func TestSecretsManagerBinarySecret(t *testing.T) {
	e := newSMEnv(t)
	_, err := e.client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(e.secret),
		SecretBinary: []byte(`{"stashApiKey":"k1"}`),
	})
	if err != nil {
		t.Fatalf("create secret: %v", err)
	}
	got, err := e.source().Values(context.Background(), secrets.StashAPIKey)
	if err == nil {
		t.Fatalf("Values = %q, nil; want an error for a binary secret", got)
	}
	if !strings.Contains(err.Error(), "SecretString") {
		t.Errorf("error %q does not say the SecretString is missing", err)
	}
}

// A malformed rotation keeps the last good copy serving.
func TestSecretsManagerMalformedRotationKeepsCache(t *testing.T) {
	e := newSMEnv(t)
	e.createJSON(map[string]string{"stashApiKey": "k1"})
	var handled []error
	src := e.source(secrets.WithTTL(time.Minute), secrets.WithErrorHandler(func(err error) { handled = append(handled, err) }))
	wantValues(t, src, secrets.StashAPIKey, "k1")

	_, err := e.client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(e.secret),
		SecretString: aws.String("not json " + "Zq9xW7vKpL3m"),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	wantValues(t, src, secrets.StashAPIKey, "k1")
	if len(handled) != 1 {
		t.Fatalf("error handler called %d times, want 1", len(handled))
	}
	if strings.Contains(handled[0].Error(), "Zq9x") {
		t.Errorf("handled error %q contains the secret's value", handled[0])
	}
}

// fragments returns every substring of s of length n.
func fragments(s string, n int) []string {
	var out []string
	for i := 0; i+n <= len(s); i++ {
		out = append(out, s[i:i+n])
	}
	return out
}
