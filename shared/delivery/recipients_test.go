package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/localenv"
	"github.com/tollgate-dev/tollgate/shared/delivery"
	"github.com/tollgate-dev/tollgate/shared/deps"
	"github.com/tollgate-dev/tollgate/shared/outbox"
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/store"
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
			d := deps.Deps{Store: store.Store{DB: e.Stack.DB, Tables: e.Tables}, Getenv: func(k string) string { return env[k] }}
			creds, err := payments.CredentialsFromEnv(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			r := delivery.Recipients{Store: d.Store, Credentials: creds, StoreSecret: delivery.StoreSecrets(nil, "", e.Stack.Keys)}
			for _, rc := range []struct {
				recipient string
				ok        bool
			}{
				{store.Tuple("store", "s1"), true}, {store.Tuple("merchant", localenv.DemoMerchant), true},
				{store.Tuple("store", "s2"), false}, {store.Tuple("store", "nope"), false}, {store.Tuple("merchant", "nope"), false},
			} {
				tg, err := r.Resolve(ctx, rc.recipient)
				if err != nil || (tg.URL != "" && tg.Secret == secret) != rc.ok {
					t.Errorf("%s: %+v %v, want ok=%v", rc.recipient, tg, err, rc.ok)
				}
			}
			c := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
			for i, rcp := range []string{store.Tuple("store", "s1"), store.Tuple("merchant", localenv.DemoMerchant), store.Tuple("store", "s2")} {
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
			if err != nil || st.Delivered != 2 || st.Failed != 1 || recv.count("ev-0") != 1 || recv.count("ev-1") != 1 {
				t.Fatalf("run: %+v %v, received %v", st, err, recv.got)
			}
		})
	}
}
