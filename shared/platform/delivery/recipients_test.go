package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// A store's and a merchant's events reach their configured URLs signed
// with their secrets (the receiver checks against `secret`).
func TestRecipients(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			recv := &receiver{t: t, got: map[string]int{}}
			srv := httptest.NewServer(recv)
			defer srv.Close()
			storesFile := fmt.Sprintf(`{"stores": [{"slug": "s1", "name": "S1", "apiKeys": ["sk_test_recipients_1"], "webhookUrl": %q, "webhookSecret": %q, "products": []},
				{"slug": "s2", "name": "S2", "apiKeys": ["sk_test_recipients_2"], "products": []}]}`, srv.URL+"/store", secret)
			env := map[string]string{localenv.EnvPaymentsWebhookURL: srv.URL + "/merchant", payments.EnvWebhookSigningSecret: secret}
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{Stores: []byte(storesFile), Env: env})
			ctx := context.Background()
			d := deps.Deps{Store: dynamo.Store{DB: e.Stack.DB, Tables: e.Tables}, Getenv: func(k string) string { return env[k] }}
			creds, err := payments.CredentialsFromEnv(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			r := delivery.Recipients{payments.RecipientKind: payments.MerchantTargets(d.Store, creds), stores.RecipientKind: stores.WebhookTargets(d.Store, stores.WebhookSecrets(nil, "", e.Stack.Keys), nil)}
			for _, rc := range []struct {
				recipient string
				ok        bool
			}{
				{dynamo.Tuple("store", "s1"), true}, {dynamo.Tuple("merchant", localenv.DemoMerchant), true},
				{dynamo.Tuple("store", "s2"), false}, {dynamo.Tuple("store", "nope"), false}, {dynamo.Tuple("merchant", "nope"), false},
			} {
				tg, err := r.Resolve(ctx, rc.recipient)
				if err != nil || (tg.URL != "" && tg.Secret == secret) != rc.ok {
					t.Errorf("%s: %+v %v, want ok=%v", rc.recipient, tg, err, rc.ok)
				}
			}
			c := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
			for i, rcp := range []string{dynamo.Tuple("store", "s1"), dynamo.Tuple("merchant", localenv.DemoMerchant), dynamo.Tuple("store", "s2")} {
				op, err := outbox.EnqueueOp(e.Tables.Outbox, outbox.Event{ID: fmt.Sprint("ev-", i), Recipient: rcp, Type: "t", Payload: json.RawMessage(`{}`), At: c.Now()})
				if err != nil {
					t.Fatal(err)
				}
				if err := d.Store.Transact(ctx, []types.TransactWriteItem{op}); err != nil {
					t.Fatal(err)
				}
			}
			disp := &delivery.Dispatcher{Box: outbox.Box{DB: e.Stack.DB, Table: e.Tables.Outbox}, Resolver: r, Now: c.Now}
			st, err := disp.Run(ctx, 10)
			if err != nil || st.Delivered != 2 || st.Undeliverable != 1 || recv.count("ev-0") != 1 || recv.count("ev-1") != 1 {
				t.Fatalf("run: %+v %v, received %v", st, err, recv.got)
			}
			// s2 has no webhook URL: recorded undeliverable, not retried.
			if s, _, err := disp.Box.Get(ctx, "ev-2"); err != nil || s.Status != outbox.StatusUndeliverable {
				t.Fatalf("ev-2: %+v %v", s, err)
			}
		})
	}
}

// A store's webhookSignatureHeader renames the signature header (an
// integration written against that header keeps verifying); the
// stores file refuses a name that is no header token or that a delivery
// sets itself.
func TestStoreSignatureHeader(t *testing.T) {
	for _, h := range []string{"X Sig", "X-Sig:", "Content-Type", "x-tollgate-event-id", "Ünicode", strings.Repeat("a", 65)} {
		file := fmt.Sprintf(`{"stores": [{"slug": "s1", "name": "S1", "apiKeys": ["sk_test_header_1"], "webhookSignatureHeader": %q, "products": []}]}`, h)
		if _, err := stores.ParseFile([]byte(file)); err == nil || !strings.Contains(err.Error(), "webhookSignatureHeader") {
			t.Errorf("header %q: %v, want refused", h, err)
		}
	}
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			const header = "X-AnonymousPay-Signature"
			recv := &receiver{t: t, header: header, got: map[string]int{}}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get(delivery.DefaultSignatureHeader) != "" {
					t.Error("the default header was sent too")
				}
				recv.ServeHTTP(w, r)
			}))
			defer srv.Close()
			file := fmt.Sprintf(`{"stores": [{"slug": "s1", "name": "S1", "apiKeys": ["sk_test_header_1"], "webhookUrl": %q, "webhookSecret": %q,
				"webhookSignatureHeader": %q, "products": []}]}`, srv.URL, secret, header)
			if _, err := stores.ParseFile([]byte(file)); err != nil {
				t.Fatal(err)
			}
			e := ddbtest.NewEnv(t, b, ddbtest.StackOptions{Stores: []byte(file)})
			ctx := context.Background()
			st := dynamo.Store{DB: e.Stack.DB, Tables: e.Tables}
			r := delivery.Recipients{stores.RecipientKind: stores.WebhookTargets(st, stores.WebhookSecrets(nil, "", e.Stack.Keys), nil)}
			if tg, err := r.Resolve(ctx, dynamo.Tuple("store", "s1")); err != nil || tg.Header != header {
				t.Fatalf("target %+v %v, want header %s", tg, err, header)
			}
			now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			op, err := outbox.EnqueueOp(e.Tables.Outbox, outbox.Event{ID: "ev-h", Recipient: dynamo.Tuple("store", "s1"), Type: "order.fulfilled",
				Payload: json.RawMessage(`{"event":"order.fulfilled"}`), At: now})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Transact(ctx, []types.TransactWriteItem{op}); err != nil {
				t.Fatal(err)
			}
			disp := &delivery.Dispatcher{Box: outbox.Box{DB: e.Stack.DB, Table: e.Tables.Outbox}, Resolver: r, Now: func() time.Time { return now }}
			if s, err := disp.Run(ctx, 10); err != nil || s.Delivered != 1 || recv.count("ev-h") != 1 {
				t.Fatalf("run: %+v %v", s, err)
			}
		})
	}
}
