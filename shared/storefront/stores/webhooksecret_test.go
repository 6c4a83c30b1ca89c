package stores_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// faultySM is the real Secrets Manager client (on moto) with a fault
// injected at a chosen call: failed before it reaches the service, or
// applied and its answer lost.
type faultySM struct {
	next   stores.SecretsManagerAPI
	mu     sync.Mutex
	calls  []string
	inject func(call int) ddbtest.Fault
}

var errSMInjected = errors.New("injected: Secrets Manager unavailable")

func (f *faultySM) fault(op string) ddbtest.Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op)
	if f.inject == nil {
		return ddbtest.NoFault
	}
	return f.inject(len(f.calls))
}

func call[In, Out any](f *faultySM, op string, ctx context.Context, in In, do func(context.Context, In, ...func(*secretsmanager.Options)) (Out, error)) (Out, error) {
	var zero Out
	switch f.fault(op) {
	case ddbtest.NoFault:
		return do(ctx, in)
	case ddbtest.LoseResponse:
		_, _ = do(ctx, in)
		return zero, errSMInjected
	}
	return zero, errSMInjected
}

func (f *faultySM) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return call(f, "GetSecretValue", ctx, in, f.next.GetSecretValue)
}

func (f *faultySM) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	return call(f, "PutSecretValue", ctx, in, f.next.PutSecretValue)
}

func (f *faultySM) CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	return call(f, "CreateSecret", ctx, in, f.next.CreateSecret)
}

var smSeq atomic.Int64

// motoSecrets is a Secrets Manager store of webhook secrets on moto under
// a prefix no other test uses (skipped without moto).
func motoSecrets(t *testing.T) (*faultySM, stores.SecretsManagerWebhookSecrets) {
	t.Helper()
	url, ok := ddbtest.Moto(t)
	if !ok {
		t.Skip("moto_server is not installed")
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	client := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url); o.RetryMaxAttempts = 1 })
	f := &faultySM{next: client}
	return f, stores.SecretsManagerWebhookSecrets{Client: f, Prefix: fmt.Sprintf("tollgate-test/%d/stores/", smSeq.Add(1))}
}

// withWebhook makes store "shop" with a webhook URL and, when secret is
// set, a stores file's plaintext secret (its ref "local:shop").
func (e *env) withWebhook(t *testing.T, url, secret string) {
	t.Helper()
	f := stores.File{Stores: []stores.FileStore{{Slug: "shop", Name: "The Shop", APIKeys: []string{"sk_test_webhook_1"}, WebhookURL: url,
		WebhookSecret: secret, WebhookSignatureHeader: "X-Shop-Signature",
		Products: []stores.FileProduct{{SKU: "SKU-1", Name: "One", Prices: map[string]int64{"GBP": 100}}}}}}
	if _, err := e.admin.Import(context.Background(), f); err != nil {
		t.Fatal(err)
	}
}

// A rotation makes a whsec_ secret, keeps the one it replaced for 24 h
// (deliveries' targets carry both), and a retry of it answers the same
// secret; the dispatcher's resolver reads both, in memory (make run) and in
// Secrets Manager (moto).
func TestRotateWebhookSecret(t *testing.T) {
	type kind struct {
		name  string
		store func(t *testing.T, e *env) (stores.WebhookSecretStore, func(ctx context.Context, ref string) (string, error), string)
	}
	kinds := []kind{
		{"local", func(t *testing.T, e *env) (stores.WebhookSecretStore, func(ctx context.Context, ref string) (string, error), string) {
			// The stores file's secret, as make run loads it, then rotated ones.
			local := stores.LocalWebhookSecrets{Keys: e.Stack.LocalSecrets}
			e.withWebhook(t, "http://127.0.0.1:9/hook", "file-secret")
			e.Stack.Keys["local:shop"] = "file-secret"
			// The functions' key source (the dispatcher's) serves both.
			return local, stores.WebhookSecrets(nil, "", e.Deps(t, "DispatchFunction").Secrets), "file-secret"
		}},
		{"secrets manager", func(t *testing.T, e *env) (stores.WebhookSecretStore, func(ctx context.Context, ref string) (string, error), string) {
			f, sm := motoSecrets(t)
			e.withWebhook(t, "http://127.0.0.1:9/hook", "")
			return sm, stores.WebhookSecrets(f, sm.Prefix, nil), ""
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			e := newEnv(t, ddbtest.Backend{Name: "minidyn"})
			secretStore, resolve, first := k.store(t, e)
			c := &clock{t: now}
			e.admin.Now = c.Now
			ctx := context.Background()
			r1, err := e.admin.RotateWebhookSecret(ctx, secretStore, "shop", stores.NewRotationID(), e.audit("secret.rotate"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(r1.Secret, "whsec_") || len(r1.Secret) != len("whsec_")+44 || r1.Replayed {
				t.Fatalf("first rotation %+v", r1)
			}
			targets := stores.WebhookTargets(e.st, resolve, c.Now)
			tg, err := targets(ctx, "shop")
			if err != nil {
				t.Fatal(err)
			}
			if first == "" {
				if tg.Secret != r1.Secret || len(tg.Previous) != 0 || r1.PreviousRef != "" {
					t.Fatalf("first secret: target %+v, rotation %+v", tg, r1)
				}
			} else if tg.Secret != r1.Secret || len(tg.Previous) != 1 || tg.Previous[0] != first {
				t.Fatalf("after rotating the file's secret: target secret ok=%v, previous %d", tg.Secret == r1.Secret, len(tg.Previous))
			}
			c.Add(time.Hour)
			id2 := stores.NewRotationID()
			r2, err := e.admin.RotateWebhookSecret(ctx, secretStore, "shop", id2, e.audit("secret.rotate"))
			if err != nil {
				t.Fatal(err)
			}
			if r2.Secret == r1.Secret || r2.PreviousRef != r1.Ref || !r2.PreviousUntil.Equal(now.Add(25*time.Hour)) {
				t.Fatalf("second rotation %+v (first ref %s)", r2, r1.Ref)
			}
			again, err := e.admin.RotateWebhookSecret(ctx, secretStore, "shop", id2, e.audit("secret.rotate"))
			if err != nil || !again.Replayed || again.Secret != r2.Secret || again.Ref != r2.Ref {
				t.Fatalf("retry of the second rotation: %+v %v", again, err)
			}
			tg, err = targets(ctx, "shop")
			if err != nil || tg.Secret != r2.Secret || len(tg.Previous) != 1 || tg.Previous[0] != r1.Secret {
				t.Fatalf("during the roll: %v, previous %d", err, len(tg.Previous))
			}
			c.Add(24 * time.Hour) // the previous secret's day is over
			if tg, err = targets(ctx, "shop"); err != nil || tg.Secret != r2.Secret || len(tg.Previous) != 0 {
				t.Fatalf("after the roll: %v, previous %d", err, len(tg.Previous))
			}
			if got := e.audits(t); len(got) != 2 {
				t.Fatalf("audit rows %v, want one per rotation (the retry writes none)", got)
			}
			if _, err := e.admin.RotateWebhookSecret(ctx, secretStore, "shop", "short", e.audit("secret.rotate")); !errors.Is(err, stores.ErrRotationID) {
				t.Fatalf("bad rotation id: %v", err)
			}
			if _, err := e.admin.RotateWebhookSecret(ctx, secretStore, "nope", stores.NewRotationID(), e.audit("secret.rotate")); !errors.Is(err, stores.ErrNoStore) {
				t.Fatalf("no store: %v", err)
			}
		})
	}
}

// rotationOutcome checks a rotation retried after a faulty attempt: the
// store's current secret is the retry's, readable; the previous one is the
// secret before; the faulty attempt, if it answered, answered the same
// secret; one audit row.
func rotationOutcome(t *testing.T, e *env, resolve func(ctx context.Context, ref string) (string, error), first stores.Rotation, ferr error,
	got stores.Rotation, err error, before string) {
	t.Helper()
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if ferr == nil && first.Secret != got.Secret {
		t.Fatal("the faulty attempt and its retry answered different secrets")
	}
	tg, terr := stores.WebhookTargets(e.st, resolve, func() time.Time { return now })(context.Background(), "shop")
	if terr != nil || tg.Secret != got.Secret {
		t.Fatalf("target after the retry: %v, current is the retry's: %v", terr, tg.Secret == got.Secret)
	}
	if before != "" && (len(tg.Previous) != 1 || tg.Previous[0] != before) {
		t.Fatalf("previous secret lost: %d previous", len(tg.Previous))
	}
	if a := e.audits(t); len(a) != 1 {
		t.Fatalf("audit rows %v, want 1", a)
	}
}

// A DynamoDB fault (500, throttle, timeout, a lost answer) at every call
// of a rotation: retried with the same rotation id, it converges on one
// rotation, with the secret before kept as the previous one.
func TestRotationFaultSweepDynamoDB(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			run := func(t *testing.T, inject func(call int, op string) ddbtest.Fault) {
				e := newFaultEnv(t, b)
				e.withWebhook(t, "http://127.0.0.1:9/hook", "file-secret")
				local := stores.LocalWebhookSecrets{Keys: e.Stack.LocalSecrets}
				e.Stack.Keys["local:shop"] = "file-secret"
				resolve := stores.WebhookSecrets(nil, "", e.Stack.LocalSecrets)
				id := stores.NewRotationID()
				e.Transport.Reset()
				e.Transport.Inject(inject)
				first, ferr := e.admin.RotateWebhookSecret(context.Background(), local, "shop", id, e.audit("secret.rotate"))
				e.Transport.Inject(nil)
				got, err := e.admin.RotateWebhookSecret(context.Background(), local, "shop", id, e.audit("secret.rotate"))
				rotationOutcome(t, e, resolve, first, ferr, got, err, "file-secret")
			}
			e := newFaultEnv(t, b)
			e.withWebhook(t, "http://127.0.0.1:9/hook", "file-secret")
			e.Transport.Reset()
			if _, err := e.admin.RotateWebhookSecret(context.Background(), stores.LocalWebhookSecrets{Keys: &secrets.Local{}}, "shop", stores.NewRotationID(), e.audit("x")); err != nil {
				t.Fatal(err)
			}
			calls := e.Transport.Calls()
			if strings.Join(calls, ",") != "GetItem,TransactWriteItems" {
				t.Fatalf("a rotation's DynamoDB calls %v, want GetItem, TransactWriteItems", calls)
			}
			ddbtest.Sweep(t, calls, run)
		})
	}
}

// A Secrets Manager fault at every call of a first rotation and of the
// next (moto): retried with the same rotation id, it converges.
func TestRotationFaultSweepSecretsManager(t *testing.T) {
	for _, step := range []string{"first secret", "next secret"} {
		t.Run(step, func(t *testing.T) {
			setup := func(t *testing.T) (*env, *faultySM, stores.SecretsManagerWebhookSecrets, string) {
				e := newEnv(t, ddbtest.Backend{Name: "minidyn"})
				f, sm := motoSecrets(t)
				e.withWebhook(t, "http://127.0.0.1:9/hook", "")
				before := ""
				if step == "next secret" {
					r, err := e.admin.RotateWebhookSecret(context.Background(), sm, "shop", stores.NewRotationID(), stores.NoAudit)
					if err != nil {
						t.Fatal(err)
					}
					before = r.Secret
				}
				f.mu.Lock()
				f.calls = nil
				f.mu.Unlock()
				return e, f, sm, before
			}
			e, f, sm, _ := setup(t)
			if _, err := e.admin.RotateWebhookSecret(context.Background(), sm, "shop", stores.NewRotationID(), stores.NoAudit); err != nil {
				t.Fatal(err)
			}
			calls := append([]string(nil), f.calls...)
			t.Logf("Secrets Manager calls of a rotation (%s): %v", step, calls)
			for n := range calls {
				for _, fault := range ddbtest.AllFaults {
					t.Run(fmt.Sprintf("call %d %s %s", n+1, calls[n], fault), func(t *testing.T) {
						e, f, sm, before := setup(t)
						f.mu.Lock()
						f.inject = func(call int) ddbtest.Fault {
							if call == n+1 {
								return fault
							}
							return ddbtest.NoFault
						}
						f.mu.Unlock()
						id := stores.NewRotationID()
						first, ferr := e.admin.RotateWebhookSecret(context.Background(), sm, "shop", id, e.audit("secret.rotate"))
						f.mu.Lock()
						f.inject = nil
						f.mu.Unlock()
						got, err := e.admin.RotateWebhookSecret(context.Background(), sm, "shop", id, e.audit("secret.rotate"))
						rotationOutcome(t, e, stores.WebhookSecrets(f, sm.Prefix, nil), first, ferr, got, err, before)
					})
				}
			}
		})
	}
}

// Send test event: a signed "test" delivery now, by the dispatcher's rules:
// both signatures during a roll, the answer's status, latency and first
// 512 bytes; refused URLs and stores without a target are told, not sent.
func TestSendTestEvent(t *testing.T) {
	e := newEnv(t, ddbtest.Backend{Name: "minidyn"})
	var mu sync.Mutex
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, body = r, b
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(strings.Repeat("<b>x</b>", 200)))
	}))
	t.Cleanup(srv.Close)
	e.withWebhook(t, srv.URL+"/hook", "file-secret")
	local := stores.LocalWebhookSecrets{Keys: e.Stack.LocalSecrets}
	e.Stack.Keys["local:shop"] = "file-secret"
	r, err := e.admin.RotateWebhookSecret(context.Background(), local, "shop", stores.NewRotationID(), stores.NoAudit)
	if err != nil {
		t.Fatal(err)
	}
	resolve := stores.WebhookSecrets(nil, "", e.Stack.LocalSecrets)
	d, err := stores.SendTestEvent(context.Background(), e.st, resolve, delivery.NewSender(false), "shop", now)
	if err != nil || d.Err != nil {
		t.Fatalf("send: %v / %v", err, d.Err)
	}
	if d.Status != 202 || len(d.Body) != delivery.AnswerPrefix || d.Latency <= 0 || !strings.HasPrefix(string(d.Body), "<b>x</b>") {
		t.Fatalf("answer %d, %d bytes, %v", d.Status, len(d.Body), d.Latency)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := delivery.SignAll([]string{r.Secret, "file-secret"}, body); got.Header.Get("X-Shop-Signature") != want {
		t.Fatalf("X-Shop-Signature %q, want %q", got.Header.Get("X-Shop-Signature"), want)
	}
	if want := delivery.StandardSignature([]string{r.Secret, "file-secret"}, d.EventID, now, body); got.Header.Get("webhook-signature") != want {
		t.Fatal("webhook-signature is not the two secrets' signature")
	}
	if got.Header.Get(delivery.HeaderEventType) != stores.TestEventType || !strings.Contains(string(body), `"event":"test"`) {
		t.Fatalf("event %q %s", got.Header.Get(delivery.HeaderEventType), body)
	}
	// In prod the same URL is refused before anything is sent.
	if d, err := stores.SendTestEvent(context.Background(), e.st, resolve, delivery.NewSender(true), "shop", now); err != nil || !errors.Is(d.Err, delivery.ErrURL) || d.Status != 0 {
		t.Fatalf("prod: %+v %v", d, err)
	}
	// A store without a URL has no target.
	if err := e.admin.UpdateSettings(context.Background(), "shop", stores.Settings{Name: "The Shop"}, false, stores.NoAudit); err != nil {
		t.Fatal(err)
	}
	if d, err := stores.SendTestEvent(context.Background(), e.st, resolve, delivery.NewSender(false), "shop", now); err != nil || !errors.Is(d.Err, delivery.ErrNoTarget) {
		t.Fatalf("no URL: %+v %v", d, err)
	}
}

// OpenPortal under make run: no STORE_SECRET_PREFIX, so the local
// runner's secrets; a rotation through it is what the local dispatcher
// signs with.
func TestOpenPortalLocal(t *testing.T) {
	e := newEnv(t, ddbtest.Backend{Name: "minidyn"})
	e.withWebhook(t, "http://127.0.0.1:9/hook", "")
	// The portal's function is not in the template yet: its deps as the
	// local runner gives them (no STORE_SECRET_PREFIX, the local secrets).
	p, err := stores.OpenPortal(context.Background(), deps.Deps{Store: e.st, LocalSecrets: e.Stack.LocalSecrets, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Secrets.(stores.LocalWebhookSecrets); !ok || p.Sender.Prod {
		t.Fatalf("portal %+v", p)
	}
	r, err := p.RotateWebhookSecret(context.Background(), "shop", stores.NewRotationID(), stores.NoAudit)
	if err != nil {
		t.Fatal(err)
	}
	d := e.Deps(t, "DispatchFunction")
	tg, err := stores.WebhookTargets(d.Store, stores.WebhookSecrets(nil, "", d.Secrets), nil)(context.Background(), "shop")
	if err != nil || tg.Secret != r.Secret {
		t.Fatalf("the dispatcher's target: %v, its secret the rotation's: %v", err, tg.Secret == r.Secret)
	}
}
