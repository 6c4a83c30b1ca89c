package checkout_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/internal/dev/ddbtest"
	"github.com/tollgate-dev/tollgate/internal/dev/stripemock"
	"github.com/tollgate-dev/tollgate/shared/platform/ddbcalls"
	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// clock is a settable time (a refund's lease ends as time passes).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// refunder is the checkout as the portal's orders pages hold it, on c's
// time. The stack's own client: the PortalOrdersFunction's role comes with
// those pages, and the audit row is a write on the PortalTable.
func (e *env) refunder(t *testing.T, c *clock) *checkout.Service {
	t.Helper()
	d := e.Deps(t, "StripeWebhookFunction")
	d.Store.DB = e.Stack.DB
	d.Secrets = withPrevious{d.Secrets}
	d.Now = c.Now
	svc, err := checkout.Open(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// auditOp stands in for portal.AuditOp: a harmless Put on the PortalTable.
func (e *env) auditOp(n int) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(e.Tables.Portal), Item: map[string]types.AttributeValue{
		dynamo.AttrPK: dynamo.S("test-audit"), dynamo.AttrSK: dynamo.S(fmt.Sprintf("press-%03d", n))}}}
}

// auditRows counts the audit rows written.
func (e *env) auditRows(t *testing.T) int {
	t.Helper()
	x := dynamo.Build(expression.NewBuilder().WithKeyCondition(expression.Key(dynamo.AttrPK).Equal(expression.Value("test-audit"))))
	out, err := e.st.DB.Query(context.Background(), &dynamodb.QueryInput{TableName: aws.String(e.Tables.Portal), KeyConditionExpression: x.KeyCondition(),
		ExpressionAttributeNames: x.Names(), ExpressionAttributeValues: x.Values(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}

// emails counts the buyer emails of type typ of shop.
func (e *env) emails(t *testing.T, typ string) int {
	t.Helper()
	all, err := outbox.Box{DB: e.st.DB, Table: e.st.Tables.Outbox}.List(context.Background(), dynamo.Tuple(stores.EmailKind, "shop"), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range all {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// expectRefunded checks a portal refund's end state: the order refunded
// in full, its keys withheld, one order.refunded event, one refund email,
// one audit row.
func (e *env) expectRefunded(t *testing.T, id string) {
	t.Helper()
	v, err := e.order.Order(context.Background(), "shop", id)
	if err != nil || v.Status != stores.StatusRefunded || len(v.Items[0].LicenseKeys) != 0 {
		t.Fatalf("order %+v, %v; want refunded without keys", v, err)
	}
	if n := e.eventsOf(t, "order.refunded", id); n != 1 {
		t.Fatalf("%d order.refunded events", n)
	}
	if n := e.emails(t, stores.EmailRefund); n != 1 {
		t.Fatalf("%d refund emails", n)
	}
	if n := e.auditRows(t); n != 1 {
		t.Fatalf("%d audit rows, want 1", n)
	}
}

// A paid sandbox order refunded from the portal: four DynamoDB calls (the
// order, its payment, the intent, the result with the order's refund and
// the audit row); pressed again, nothing more happens. Licensing API
// orders, unpaid orders and another store's orders are refused.
func TestPortalRefund(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, ddbtest.StackOptions{})
			ctx := context.Background()
			c := &clock{t: now}
			svc := e.refunder(t, c)
			p := e.pending(t, "")
			if _, err := e.pay.SandboxPay(ctx, "shop", p.OrderID, "4242424242424242"); err != nil {
				t.Fatal(err)
			}
			cc := &ddbcalls.Counter{}
			d, err := svc.OrderDetail(ddbcalls.WithCounter(ctx, cc), "shop", p.OrderID)
			// The order, its keys, its payment, its events (two ordering keys).
			if cc.Total() != 5 {
				t.Fatalf("%d DynamoDB calls for an order's detail, want 5", cc.Total())
			}
			if err != nil || !d.Refundable || d.PSP != psp.Sandbox || d.PSPPaymentID == "" || len(d.Order.Items[0].LicenseKeys) != 2 || d.ProductNames["WIN-11-PRO"] == "" {
				t.Fatalf("detail before the refund: %+v, %v", d, err)
			}
			cc = &ddbcalls.Counter{}
			r, err := svc.RefundOrder(ddbcalls.WithCounter(ctx, cc), "shop", p.OrderID, e.auditOp(0))
			if err != nil || r.Already || r.RefundedMinor != p.Quote.TotalMinor || r.PSPRefundID == "" {
				t.Fatalf("refund %+v, %v", r, err)
			}
			if cc.Total() != 4 {
				t.Fatalf("%d DynamoDB calls for a refund, want 4", cc.Total())
			}
			e.expectRefunded(t, p.OrderID)
			d, err = svc.OrderDetail(ctx, "shop", p.OrderID)
			if err != nil || d.Refundable || d.PSPRefundID != r.PSPRefundID || d.RefundStatus != "SUCCESS" || !d.Order.KeysRevoked {
				t.Fatalf("detail after the refund: %+v, %v", d, err)
			}
			var kinds []string
			for _, ev := range d.Events {
				kinds = append(kinds, ev.Type)
			}
			if fmt.Sprint(kinds) != "[order.created order.fulfilled order.refunded email.receipt email.refund]" {
				t.Fatalf("the order's events %v", kinds)
			}
			if _, err := svc.OrderDetail(ctx, "other", p.OrderID); !errors.Is(reason(err), checkout.ErrNoOrder) {
				t.Fatalf("another store's order: %v", err)
			}
			r, err = svc.RefundOrder(ctx, "shop", p.OrderID, e.auditOp(1))
			if err != nil || !r.Already {
				t.Fatalf("pressed again: %+v, %v", r, err)
			}
			e.expectRefunded(t, p.OrderID)

			f := stores.NewFulfiller(e.st, c.Now, stores.Options{})
			api, err := f.Fulfil(ctx, stores.FulfilRequest{Store: "shop", APIKey: apiKey, ExternalReference: "api-1", Currency: "GBP", TotalMinor: 1000,
				Items: []stores.Line{{SKU: "OFFICE", Quantity: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			unpaid := e.pending(t, "ref-unpaid")
			for _, c := range []struct {
				store, id string
				want      error
			}{
				{"shop", api.Order.ID, checkout.ErrNotRefundable}, {"shop", unpaid.OrderID, checkout.ErrNotRefundable},
				{"other", p.OrderID, checkout.ErrNoOrder}, {"shop", "ORD-000000000000", checkout.ErrNoOrder}, {"shop", "nonsense", checkout.ErrNoOrder},
			} {
				if _, err := svc.RefundOrder(ctx, c.store, c.id, e.auditOp(9)); !errors.Is(reason(err), c.want) {
					t.Fatalf("refund of %s/%s: %v, want %v", c.store, c.id, err, c.want)
				}
			}
			if n := e.auditRows(t); n != 1 {
				t.Fatalf("%d audit rows after refusals", n)
			}
		})
	}
}

// 20 concurrent presses of Refund on a Stripe order (stripe-mock behind a
// counter): one refund request reaches Stripe, one order.refunded event,
// one audit row; every other press is told the refund is under way or
// done. Stripe's charge.refunded for it afterwards changes nothing.
func TestConcurrentPortalRefunds(t *testing.T) {
	stripemock.Require(t, mockURL)
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			faults := newStripeFaults(t, mockURL)
			e := newEnv(t, b, ddbtest.StackOptions{Env: map[string]string{"CHECKOUT_STRIPE_SECRET_KEY": "sk_test_platform",
				"CHECKOUT_STRIPE_PUBLISHABLE_KEY": "pk_test_platform", "STRIPE_API_BASE": faults.URL}})
			ctx := context.Background()
			p := e.pending(t, "")
			body, sig := signed(t, "evt_paid", "payment_intent.succeeded", succeeded(p, p.Quote.TotalMinor), whsec, now)
			if out, err := e.hooks.ReceiveStripe(ctx, body, sig); err != nil || out != checkout.OutcomeApplied {
				t.Fatalf("payment: %q, %v", out, err)
			}
			svc := e.refunder(t, &clock{t: now})
			var wg sync.WaitGroup
			results := make([]checkout.Refund, 20)
			errs := make([]error, 20)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = svc.RefundOrder(ctx, "shop", p.OrderID, e.auditOp(i))
				}()
			}
			wg.Wait()
			done := 0
			for i := range 20 {
				switch {
				case errs[i] == nil && !results[i].Already:
					done++
				case errs[i] == nil, errors.Is(reason(errs[i]), checkout.ErrRefundUnderWay):
				default:
					t.Fatalf("press %d: %v", i, errs[i])
				}
			}
			faults.mu.Lock()
			calls, keys := faults.refundCalls, faults.refundKeys
			faults.mu.Unlock()
			if done != 1 || calls != 1 || keys[0] != checkout.RefundKey(p.OrderID) {
				t.Fatalf("%d presses refunded, %d refund requests to Stripe (keys %q); want 1 and 1", done, calls, keys)
			}
			e.expectRefunded(t, p.OrderID)
			body, sig = signed(t, "evt_refunded", "charge.refunded", map[string]any{"id": "ch_" + p.OrderID, "object": "charge",
				"amount_refunded": p.Quote.TotalMinor, "currency": "gbp", "payment_intent": intentOf(p),
				"metadata": map[string]string{checkout.MetaStore: "shop", checkout.MetaOrder: p.OrderID}}, whsec, now)
			if out, err := e.hooks.ReceiveStripe(ctx, body, sig); err != nil || out != checkout.OutcomeKnown {
				t.Fatalf("Stripe's charge.refunded after the portal's refund: %q, %v", out, err)
			}
			e.expectRefunded(t, p.OrderID)
		})
	}
}

// A DynamoDB fault at every call of a portal refund: pressed again once
// the first press's hold has ended, it converges on one refund (one
// idempotency key), one order.refunded event, one email, one audit row.
func TestPortalRefundFaultSweep(t *testing.T) {
	for _, b := range ddbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			run := func(t *testing.T, inject func(call int, op string) ddbtest.Fault) []string {
				e := newEnv(t, b, ddbtest.StackOptions{MaxAttempts: 1})
				ctx := context.Background()
				p := e.pending(t, "")
				if _, err := e.pay.SandboxPay(ctx, "shop", p.OrderID, "4242424242424242"); err != nil {
					t.Fatal(err)
				}
				c := &clock{t: now}
				svc := e.refunder(t, c)
				e.Transport.Reset()
				e.Transport.Inject(inject)
				_, ferr := svc.RefundOrder(ctx, "shop", p.OrderID, e.auditOp(0))
				calls := e.Transport.Calls()
				e.Transport.Inject(nil)
				c.Add(checkout.RefundLease + time.Second)
				if _, err := svc.RefundOrder(ctx, "shop", p.OrderID, e.auditOp(1)); err != nil {
					t.Fatalf("pressed again: %v (first: %v)", err, ferr)
				}
				e.expectRefunded(t, p.OrderID)
				return calls
			}
			ddbtest.Sweep(t, run(t, nil), func(t *testing.T, inject func(int, string) ddbtest.Fault) { run(t, inject) })
		})
	}
}
