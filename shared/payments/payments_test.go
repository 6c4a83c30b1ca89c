package payments_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/logtest"
	"github.com/tollgate-dev/tollgate/shared/payments"
	"github.com/tollgate-dev/tollgate/shared/platform/deps"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/sandbox"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
)

func TestMain(m *testing.M) { os.Exit(ddbtest.Main(m)) }

// noCredentials: the sandbox needs none.
type noCredentials struct{}

func (noCredentials) Credentials(_ context.Context, _ string, t psp.Type, _ bool) (psp.Credentials, error) {
	if t == psp.Sandbox {
		return psp.Credentials{}, nil
	}
	return psp.Credentials{}, psp.ErrNotConfigured
}

type env struct {
	t   *testing.T
	svc *payments.Service
	sbx *sandbox.Adapter
	e   *ddbtest.Env
}

func newEnv(t *testing.T, b ddbtest.Backend, opts sandbox.Options) *env {
	t.Helper()
	return newEnvWith(t, b, opts, ddbtest.StackOptions{})
}

func newEnvWith(t *testing.T, b ddbtest.Backend, opts sandbox.Options, so ddbtest.StackOptions) *env {
	t.Helper()
	e := ddbtest.NewEnv(t, b, so)
	sbx := sandbox.New(opts)
	d := deps.Deps{Store: dynamo.Store{DB: e.Stack.DB, Tables: e.Tables}, Logger: slog.New(slog.NewJSONHandler(&logtest.Buffer{}, nil)), Now: time.Now,
		Getenv: func(string) string { return "" }}
	svc, err := payments.New(d, psp.NewRegistry(sbx), noCredentials{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.Merchants.CreateMerchant(ctx, payments.Merchant{ID: "m1", Name: "Merchant One"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Merchants.CreateMerchant(ctx, payments.Merchant{ID: "m2", Name: "Merchant Two"}); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, svc: svc, sbx: sbx, e: e}
}

// alias makes and exchanges an alias of merchant for token.
func (v *env) alias(merchant, token, method string) string {
	v.t.Helper()
	ctx := context.Background()
	a, err := v.svc.CreateAlias(ctx, payments.NewAlias{Merchant: merchant, PSP: psp.Sandbox, TestMode: true, IdempotentKey: "alias-" + token + "-" + merchant + method})
	if err != nil {
		v.t.Fatal(err)
	}
	if _, err := v.svc.ExchangeAlias(ctx, payments.Exchange{Merchant: merchant, AliasID: a.AliasID, TestMode: true, PSPAlias: token, PaymentMethod: method, Extra: json.RawMessage(`{}`)}); err != nil {
		v.t.Fatal(err)
	}
	return a.AliasID
}

func charge(merchant, key, alias string, amount int64, capture bool) payments.ChargeRequest {
	return payments.ChargeRequest{Merchant: merchant, IdempotentKey: key, Fingerprint: fmt.Sprintf("fp|%s|%d|%t", alias, amount, capture),
		TestMode: true, Capture: capture, AliasID: alias, Amount: amount, Currency: "EUR", Reason: "order 1"}
}

func wantRefusal(t *testing.T, err, reason error) {
	t.Helper()
	var r *refusal.Error
	if !errors.As(err, &r) || !errors.Is(err, reason) {
		t.Fatalf("got %v, want refusal %v", err, reason)
	}
}

func TestLifecycle(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			v := newEnv(t, b, sandbox.Options{})
			ctx := context.Background()
			al := v.alias("m1", sandbox.TokenVisa, "CC")
			pre, err := v.svc.Charge(ctx, charge("m1", "idem-key-0001", al, 1000, false))
			if err != nil || pre.Status != "SUCCESS" || pre.Action != payments.ActionPreauth || pre.ID == "" || pre.ID != pre.TransactionID {
				t.Fatalf("preauth = %+v, %v", pre, err)
			}
			again, err := v.svc.Charge(ctx, charge("m1", "idem-key-0001", al, 1000, false))
			if err != nil || again != pre {
				t.Fatalf("replay = %+v, %v; want %+v", again, err, pre)
			}
			if c := v.sbx.Counts(); c.Charges != 1 {
				t.Fatalf("sandbox charges %d, want 1", c.Charges)
			}
			_, err = v.svc.Charge(ctx, charge("m1", "idem-key-0001", al, 2000, false))
			wantRefusal(t, err, payments.ErrIdempotency)

			_, err = v.svc.Refund(ctx, payments.RefundRequest{Merchant: "m1", IdempotentKey: "refund-0000", Fingerprint: "r0", TestMode: true, TransactionID: pre.ID, Amount: 100, Currency: "EUR"})
			wantRefusal(t, err, payments.ErrNotAllowed) // not captured yet

			cap1, err := v.svc.Capture(ctx, "m1", pre.ID, true)
			if err != nil || cap1.Status != "SUCCESS" || cap1.Action != payments.ActionCapture || cap1.Amount != 1000 {
				t.Fatalf("capture = %+v, %v", cap1, err)
			}
			cap2, err := v.svc.Capture(ctx, "m1", pre.ID, true)
			if err != nil || cap2 != cap1 {
				t.Fatalf("repeated capture = %+v, %v; want the stored %+v", cap2, err, cap1)
			}
			_, err = v.svc.Reverse(ctx, "m1", pre.ID, true, "changed mind")
			wantRefusal(t, err, payments.ErrNotAllowed)
			_, err = v.svc.Capture(ctx, "m2", pre.ID, true)
			wantRefusal(t, err, payments.ErrTransactionMissing)
			_, err = v.svc.Capture(ctx, "m1", pre.ID, false)
			wantRefusal(t, err, payments.ErrTestModeMismatch)

			r1, err := v.svc.Refund(ctx, payments.RefundRequest{Merchant: "m1", IdempotentKey: "refund-0001", Fingerprint: "r1", TestMode: true, TransactionID: pre.ID, Amount: 600, Currency: "EUR"})
			if err != nil || r1.Status != "SUCCESS" || r1.Action != payments.ActionRefund || r1.Amount != 600 {
				t.Fatalf("refund = %+v, %v", r1, err)
			}
			_, err = v.svc.Refund(ctx, payments.RefundRequest{Merchant: "m1", IdempotentKey: "refund-0002", Fingerprint: "r2", TestMode: true, TransactionID: pre.ID, Amount: 401, Currency: "EUR"})
			wantRefusal(t, err, payments.ErrRefundExceeds)
			if _, err := v.svc.Refund(ctx, payments.RefundRequest{Merchant: "m1", IdempotentKey: "refund-0003", Fingerprint: "r3", TestMode: true, TransactionID: pre.ID, Amount: 400, Currency: "EUR"}); err != nil {
				t.Fatal(err)
			}
			tx, err := v.svc.Transaction(ctx, "m1", pre.ID)
			if err != nil || tx.Captured != 1000 || tx.Refunded != 1000 || len(tx.History) != 4 {
				t.Fatalf("transaction = %+v, %v; want captured and refunded 1000, 4 actions", tx, err)
			}
			for i, want := range []string{payments.ActionPreauth, payments.ActionCapture, payments.ActionRefund, payments.ActionRefund} {
				if tx.History[i].Action != want || tx.History[i].Status != "SUCCESS" {
					t.Errorf("action %d = %+v, want %s SUCCESS", i, tx.History[i], want)
				}
			}
			_, err = v.svc.Transaction(ctx, "m2", pre.ID)
			wantRefusal(t, err, payments.ErrTransactionMissing)
		})
	}
}

func TestStateMachine(t *testing.T) {
	v := newEnv(t, ddbtest.Backend{Name: "minidyn"}, sandbox.Options{})
	ctx := context.Background()
	visa := v.alias("m1", sandbox.TokenVisa, "CC")
	pre, err := v.svc.Charge(ctx, charge("m1", "idem-key-rev1", visa, 500, false))
	if err != nil {
		t.Fatal(err)
	}
	rev, err := v.svc.Reverse(ctx, "m1", pre.ID, true, "out of stock")
	if err != nil || rev.Status != "SUCCESS" || rev.Action != payments.ActionReversal {
		t.Fatalf("reverse = %+v, %v", rev, err)
	}
	if again, err := v.svc.Reverse(ctx, "m1", pre.ID, true, "out of stock"); err != nil || again != rev {
		t.Fatalf("repeated reverse = %+v, %v", again, err)
	}
	_, err = v.svc.Capture(ctx, "m1", pre.ID, true)
	wantRefusal(t, err, payments.ErrNotAllowed)

	// A failed capture leaves the pre-authorization capturable.
	declines := v.alias("m1", sandbox.TokenCaptureDeclined, "CC")
	pre2, err := v.svc.Charge(ctx, charge("m1", "idem-key-cap2", declines, 700, false))
	if err != nil || pre2.Status != "SUCCESS" {
		t.Fatalf("preauth = %+v, %v", pre2, err)
	}
	c, err := v.svc.Capture(ctx, "m1", pre2.ID, true)
	if err != nil || c.Status != "FAIL" {
		t.Fatalf("capture = %+v, %v; want FAIL", c, err)
	}
	if r, err := v.svc.Reverse(ctx, "m1", pre2.ID, true, ""); err != nil || r.Status != "SUCCESS" {
		t.Fatalf("reverse after a failed capture = %+v, %v", r, err)
	}

	// An authorization is captured at once: capture is refused, refunds work.
	auth, err := v.svc.Charge(ctx, charge("m1", "idem-key-auth", visa, 900, true))
	if err != nil || auth.Status != "SUCCESS" || auth.Action != payments.ActionAuth {
		t.Fatalf("auth = %+v, %v", auth, err)
	}
	_, err = v.svc.Capture(ctx, "m1", auth.ID, true)
	wantRefusal(t, err, payments.ErrAlreadyCaptured)

	// A decline is an answer, recorded like a success.
	declined := v.alias("m1", sandbox.TokenChargeDeclined, "CC")
	d, err := v.svc.Charge(ctx, charge("m1", "idem-key-decl", declined, 100, true))
	if err != nil || d.Status != "FAIL" || d.AdditionalInfo == "" {
		t.Fatalf("declined = %+v, %v", d, err)
	}
	if again, _ := v.svc.Charge(ctx, charge("m1", "idem-key-decl", declined, 100, true)); again != d {
		t.Fatalf("replayed decline = %+v", again)
	}

	// SEPA cannot be pre-authorized; aliases of others and unexchanged ones are refused.
	sepa := v.alias("m1", sandbox.TokenVisa, "SEPA")
	_, err = v.svc.Charge(ctx, charge("m1", "idem-key-sepa", sepa, 100, false))
	wantRefusal(t, err, payments.ErrSEPAPreauth)
	_, err = v.svc.Charge(ctx, charge("m2", "idem-key-othr", visa, 100, false))
	wantRefusal(t, err, payments.ErrAliasOtherMerchant)
	raw, err := v.svc.CreateAlias(ctx, payments.NewAlias{Merchant: "m1", PSP: psp.Sandbox, TestMode: true, IdempotentKey: "alias-raw-0001"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.svc.Charge(ctx, charge("m1", "idem-key-raw1", raw.AliasID, 100, false))
	wantRefusal(t, err, payments.ErrAliasIncomplete)
	_, err = v.svc.Charge(ctx, charge("m1", "idem-key-none", "al_nothing", 100, false))
	wantRefusal(t, err, payments.ErrAliasNotFound)
}

// 50 concurrent identical pre-authorizations: one PSP charge, 50 identical answers.
func TestConcurrentDuplicatesChargeOnce(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			v := newEnv(t, b, sandbox.Options{})
			al := v.alias("m1", sandbox.TokenVisa, "CC")
			const n = 50
			answers := make([]payments.Answer, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					answers[i], errs[i] = v.svc.Charge(context.Background(), charge("m1", "idem-key-race", al, 1234, false))
				}()
			}
			close(start)
			wg.Wait()
			for i := range n {
				if errs[i] != nil && !errors.Is(errs[i], payments.ErrInProgress) {
					t.Fatalf("call %d: %v", i, errs[i])
				}
				if errs[i] == nil && answers[i] != answers[0] {
					t.Fatalf("call %d answered %+v, call 0 %+v", i, answers[i], answers[0])
				}
			}
			if c := v.sbx.Counts(); c.Charges != 1 {
				t.Fatalf("sandbox charged %d times, want 1", c.Charges)
			}
		})
	}
}

// 20 concurrent partial refunds summing past the amount: the refunded
// total never exceeds it.
func TestConcurrentRefundsNeverExceed(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			v := newEnv(t, b, sandbox.Options{})
			ctx := context.Background()
			al := v.alias("m1", sandbox.TokenVisa, "CC")
			auth, err := v.svc.Charge(ctx, charge("m1", "idem-key-auth", al, 1000, true))
			if err != nil {
				t.Fatal(err)
			}
			const n = 20
			var wg sync.WaitGroup
			var mu sync.Mutex
			refunded := int64(0)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := v.svc.Refund(ctx, payments.RefundRequest{Merchant: "m1", IdempotentKey: fmt.Sprintf("refund-race-%02d", i), Fingerprint: fmt.Sprint(i),
						TestMode: true, TransactionID: auth.ID, Amount: 150, Currency: "EUR"})
					switch {
					case err == nil && r.Status == "SUCCESS":
						mu.Lock()
						refunded += r.Amount
						mu.Unlock()
					case err == nil:
						t.Errorf("refund %d: %+v", i, r)
					case !errors.Is(err, payments.ErrRefundExceeds):
						t.Errorf("refund %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
			tx, err := v.svc.Transaction(ctx, "m1", auth.ID)
			if err != nil {
				t.Fatal(err)
			}
			if refunded != 900 || tx.Refunded != 900 || v.sbx.Counts().Refunds != 6 {
				t.Fatalf("refunded %d (stored %d, PSP refunds %d), want 900 in 6 refunds of 150", refunded, tx.Refunded, v.sbx.Counts().Refunds)
			}
		})
	}
}

// The PSP charges and its answer is lost (tok_timeout), or fails before
// charging (tok_unavailable, a 5xx): the merchant's retry with the same
// Idempotent-Key calls again with the same PSP key, and the customer is
// charged once.
func TestPSPFailuresChargeOnce(t *testing.T) {
	for _, token := range []string{sandbox.TokenTimeout, sandbox.TokenUnavailable} {
		t.Run(token, func(t *testing.T) {
			v := newEnv(t, ddbtest.Backend{Name: "minidyn"}, sandbox.Options{})
			ctx := context.Background()
			al := v.alias("m1", token, "CC")
			_, err := v.svc.Charge(ctx, charge("m1", "idem-key-lost", al, 800, true))
			wantRefusal(t, err, payments.ErrPSP)
			ans, err := v.svc.Charge(ctx, charge("m1", "idem-key-lost", al, 800, true))
			if err != nil || ans.Status != "SUCCESS" {
				t.Fatalf("retry = %+v, %v", ans, err)
			}
			if c := v.sbx.Counts(); c.Charges != 1 {
				t.Fatalf("sandbox charged %d times, want 1", c.Charges)
			}
			tx, err := v.svc.Transaction(ctx, "m1", ans.ID)
			if err != nil || tx.Captured != 800 || len(tx.History) != 1 {
				t.Fatalf("transaction %+v, %v", tx, err)
			}
		})
	}
}

// A PENDING charge settles by the PSP's notification, once, in any order;
// refunds made at the PSP and chargebacks join the history.
func TestNotifications(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			v := newEnv(t, b, sandbox.Options{})
			ctx := context.Background()
			al := v.alias("m1", sandbox.TokenPending, "CC")
			ans, err := v.svc.Charge(ctx, charge("m1", "idem-key-pend", al, 700, true))
			if err != nil || ans.Status != "PENDING" {
				t.Fatalf("charge = %+v, %v; want PENDING", ans, err)
			}
			_, err = v.svc.Refund(ctx, payments.RefundRequest{Merchant: "m1", IdempotentKey: "refund-pend-01", Fingerprint: "r", TestMode: true, TransactionID: ans.ID, Amount: 100, Currency: "EUR"})
			wantRefusal(t, err, payments.ErrNotAllowed) // not settled yet
			tx, err := v.svc.Transaction(ctx, "m1", ans.ID)
			if err != nil {
				t.Fatal(err)
			}
			pspID := pspIDOf(t, v, ans.ID)
			n, err := v.sbx.Settle(pspID)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []string{payments.NotificationApplied, payments.NotificationKnown} {
				if got, err := v.svc.ApplyNotification(ctx, n); err != nil || got != want {
					t.Fatalf("apply %d = %q, %v; want %q", i, got, err, want)
				}
			}
			tx, err = v.svc.Transaction(ctx, "m1", ans.ID)
			if err != nil || tx.Status != "SUCCESS" || tx.Captured != 700 || len(tx.History) != 2 {
				t.Fatalf("after settlement %+v, %v", tx, err)
			}
			// A refund made in the PSP's dashboard: its refunded total grows.
			refund := psp.Notification{PSP: psp.Sandbox, EventID: "evt_refund_1", Kind: psp.NotifyRefunded, Amount: 200, Metadata: n.Metadata}
			if got, err := v.svc.ApplyNotification(ctx, refund); err != nil || got != payments.NotificationApplied {
				t.Fatalf("refund notification = %q, %v", got, err)
			}
			older := refund
			older.EventID, older.Amount = "evt_refund_0", 100 // arrives late, already covered
			if got, err := v.svc.ApplyNotification(ctx, older); err != nil || got != payments.NotificationKnown {
				t.Fatalf("older refund notification = %q, %v", got, err)
			}
			dispute := psp.Notification{PSP: psp.Sandbox, EventID: "evt_dp_1", Kind: psp.NotifyDisputeOpened, Amount: 500, Metadata: n.Metadata}
			if got, err := v.svc.ApplyNotification(ctx, dispute); err != nil || got != payments.NotificationApplied {
				t.Fatalf("dispute = %q, %v", got, err)
			}
			tx, err = v.svc.Transaction(ctx, "m1", ans.ID)
			if err != nil || tx.Refunded != 200 || len(tx.History) != 4 || tx.History[3].Action != payments.ActionChargeback {
				t.Fatalf("history %+v, %v", tx, err)
			}
			// Refunds through the API see what the PSP refunded.
			_, err = v.svc.Refund(ctx, payments.RefundRequest{Merchant: "m1", IdempotentKey: "refund-pend-02", Fingerprint: "r2", TestMode: true, TransactionID: ans.ID, Amount: 600, Currency: "EUR"})
			wantRefusal(t, err, payments.ErrRefundExceeds)
			unknown := psp.Notification{PSP: psp.Sandbox, EventID: "evt_x", Kind: psp.NotifySucceeded, Metadata: map[string]string{payments.MetaTransaction: "tx_other", payments.MetaMerchant: "m1"}}
			if got, err := v.svc.ApplyNotification(ctx, unknown); err != nil || got != payments.NotificationIgnored {
				t.Fatalf("unknown transaction = %q, %v", got, err)
			}
		})
	}
}

// pspIDOf reads the PSP's id of a transaction through a capture-free path:
// the sandbox encodes it in its answers, so ask the store.
func pspIDOf(t *testing.T, v *env, txn string) string {
	t.Helper()
	it, err := v.e.Stack.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &v.e.Tables.Payments,
		Key: dynamo.PKSK(dynamo.Tuple("txn", txn), "#"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return dynamo.StringAttr(it.Item["pspId"])
}

// Every state change writes the merchant's notification, in the original's
// shape, in the transaction that makes it.
func TestNotificationsToTheMerchant(t *testing.T) {
	v := newEnv(t, ddbtest.Backend{Name: "minidyn"}, sandbox.Options{})
	ctx := context.Background()
	pre, err := v.svc.Charge(ctx, charge("m1", "idem-key-note", v.alias("m1", sandbox.TokenVisa, "CC"), 400, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.svc.Capture(ctx, "m1", pre.ID, true); err != nil {
		t.Fatal(err)
	}
	due, err := outbox.Box{DB: v.e.Stack.DB, Table: v.e.Tables.Outbox}.Due(ctx, time.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range due {
		if ev.Recipient != dynamo.Tuple("merchant", "m1") {
			t.Fatalf("event for %q", ev.Recipient)
		}
		var body struct {
			Notifications []map[string]any `json:"notifications"`
		}
		if err := json.Unmarshal(ev.Payload, &body); err != nil || len(body.Notifications) != 1 {
			t.Fatalf("payload %s: %v", ev.Payload, err)
		}
		n := body.Notifications[0]
		if n["transactionId"] != pre.ID || n["transactionStatus"] != "SUCCESS" || n["paymentMethod"] != "CC" || n["amount"] != 400.0 ||
			n["currency"] != "EUR" || n["notificationCreatedDate"] == "" {
			t.Fatalf("notification %v", n)
		}
		actions = append(actions, n["transactionAction"].(string))
	}
	sort.Strings(actions)
	if strings.Join(actions, ",") != "CAPTURE,PREAUTH" {
		t.Fatalf("notifications for %v, want PREAUTH and CAPTURE", actions)
	}
}
