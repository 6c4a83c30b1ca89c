package checkout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/platform/metrics"
	"github.com/tollgate-dev/tollgate/shared/platform/psp"
	"github.com/tollgate-dev/tollgate/shared/platform/psp/sandbox"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/validate"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

// Payment is what the pay page needs.
type Payment struct {
	OrderID                      string
	PSP                          psp.Type // psp.Stripe or psp.Sandbox
	Quote                        Quote    // what is charged (TotalMinor == amount)
	ClientSecret, PublishableKey string   // Stripe Payment Element
	PSPID                        string   // the PSP's id of the payment (Stripe: pi_...)
}

// Payment record attributes.
const (
	attrPSP         = "psp"
	attrIdemKey     = "idempotencyKey"
	attrPSPID       = "pspId"
	attrSecret      = "clientSecret"
	attrAmount      = "amount"
	attrCurrency    = "currency"
	attrLocale      = "locale"
	attrReturnURL   = "returnUrlSuccess"
	attrStoreName   = "storeName"
	attrNames       = "productNames" // sku -> the product's name when the order was placed
	attrSession     = "session"      // the session a session cart's order pays
	attrPaymentStat = "status"
	attrStore       = "store"
	attrOrder       = "order"
	payStarted      = "started" // recorded before the PSP call
	payCreated      = "created" // the PSP's intent recorded
)

// orderID is the checkout order of a cart and buyer: the same cart and
// buyer again is the same order (StartPayment is idempotent). A session's
// cart key holds the session's secret id; a cookie cart's order id holds
// its browser's secret (the cart key is public: its lines, currency and
// source), so neither can be found from the cart and the buyer's details.
func orderID(slug string, q Quote, b Buyer, round int) string {
	parts := []string{slug, q.cartKey, strings.ToLower(b.Email), b.Country, b.Subdivision, fmt.Sprint(round)}
	if q.holder != "" {
		parts = append(parts, q.holder)
	}
	return stores.OrderIDOf("checkout", parts...)
}

// StartPayment places the order (pending, order.created) and creates the
// PSP payment for exactly Quote.TotalMinor; the same cart and buyer again
// answers the same order and payment. The payment's intent (PSP,
// idempotency key) is recorded with the order before the PSP is called and
// the PSP's answer after; a retry after a crash calls the PSP again with
// the same key, which answers the same intent.
func (s *Service) StartPayment(ctx context.Context, c CartRef, b Buyer) (Payment, error) {
	q, err := s.Quote(ctx, c, b)
	if err != nil {
		return Payment{}, err
	}
	switch {
	case len(q.Problems) > 0:
		texts := make([]string, len(q.Problems))
		for i, p := range q.Problems {
			texts[i] = p.Text
		}
		return Payment{}, refusal.New(ErrInvalid, "the cart cannot be paid: %s", strings.Join(texts, "; "))
	case len(q.Lines) == 0 || q.TotalMinor <= 0:
		return Payment{}, refusal.New(ErrInvalid, "the cart is empty")
	case validate.Email(b.Email) != nil:
		return Payment{}, refusal.New(ErrInvalid, "an email address such as buyer@example.com is required")
	case b.Country == "":
		return Payment{}, refusal.New(ErrInvalid, "the billing country is required")
	case q.NeedsSubdivision:
		return Payment{}, refusal.New(ErrNeedsSubdivision, "the billing state or province is required for %s", strings.ToUpper(b.Country))
	}
	if c.Token == "" && len(q.holder) < MinCartSecret {
		// Without it the order's id and links would follow from public data.
		return Payment{}, fmt.Errorf("checkout: a cookie cart's order needs its browser's secret (%d characters at least)", MinCartSecret)
	}
	chosen, creds, err := s.pspFor(ctx)
	if err != nil {
		return Payment{}, err
	}
	if why := chosen.TakesCurrency(q.Currency); why != nil {
		return Payment{}, refusal.New(ErrInvalid, "this cart cannot be paid in %s: %v", q.Currency, why)
	}
	pspType := chosen.Type()
	id, rec, err := s.orderFor(ctx, c, q, b)
	if err != nil {
		return Payment{}, err
	}
	if q.paidOrder != "" && q.paidOrder != id {
		return Payment{}, refusal.New(ErrSessionPaid, "this checkout is already paid (order %s); nothing was charged", q.paidOrder)
	}
	pay := Payment{OrderID: id, PSP: pspType, Quote: q, PublishableKey: creds.PublishableKey}
	if rec == nil {
		rec, err = s.place(ctx, c.Store, id, q, b, pspType)
		if err != nil {
			return Payment{}, err
		}
	}
	if got := psp.Type(dynamo.StringAttr(rec[attrPSP])); got != pspType {
		return Payment{}, fmt.Errorf("checkout: order %s was started with %s, the checkout now pays with %s", id, got, pspType)
	}
	if dynamo.StringAttr(rec[attrPaymentStat]) == payCreated {
		pay.ClientSecret, pay.PSPID = dynamo.StringAttr(rec[attrSecret]), dynamo.StringAttr(rec[attrPSPID])
		return pay, nil
	}
	intent := psp.Intent{IdempotencyKey: dynamo.StringAttr(rec[attrIdemKey]), Amount: q.TotalMinor, Currency: q.Currency,
		Metadata: map[string]string{MetaStore: c.Store, MetaOrder: id}}
	if q.sessionID != "" {
		intent.Metadata[MetaSession] = q.sessionID
	}
	res, err := chosen.CreateIntent(ctx, creds, intent)
	if err != nil {
		return Payment{}, fmt.Errorf("checkout: order %s: %w", id, err)
	}
	if err := s.recordIntent(ctx, c.Store, id, pspType, res); err != nil {
		return Payment{}, err
	}
	metrics.CheckoutPayments.Add(ctx, 1, c.Store, string(pspType))
	pay.ClientSecret, pay.PSPID = res.ClientSecret, res.PSPID
	return pay, nil
}

// orderFor finds the order of a cart and buyer and its payment record
// (nil: not placed yet). A session's cart is paid once: its order is
// answered whatever its state. A cookie cart bought again after its order
// was paid (or refunded) is a new order: the next round's id.
func (s *Service) orderFor(ctx context.Context, c CartRef, q Quote, b Buyer) (string, map[string]types.AttributeValue, error) {
	for round := 0; round < 50; round++ {
		id := orderID(c.Store, q, b, round)
		rec, err := s.payment(ctx, c.Store, id)
		if err != nil || rec == nil || c.Token != "" {
			return id, rec, err
		}
		o, found, err := stores.GetOrder(ctx, s.st, c.Store, id)
		if err != nil {
			return "", nil, err
		}
		if !found || o.Status == stores.StatusPending {
			return id, rec, nil
		}
	}
	return "", nil, refusal.New(ErrInvalid, "this cart was bought too many times by this buyer; change it")
}

// payment reads the payment record of an order (nil: none).
func (s *Service) payment(ctx context.Context, slug, id string) (map[string]types.AttributeValue, error) {
	out, err := s.st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.st.Tables.Checkout), Key: paymentKey(slug, id),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("checkout: read payment of %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// place writes the pending order, its order.created event and the
// payment's intent in one transaction.
func (s *Service) place(ctx context.Context, slug, id string, q Quote, b Buyer, p psp.Type) (map[string]types.AttributeValue, error) {
	now := s.now().UTC()
	expected := q.SubtotalMinor
	o := stores.Order{ID: id, Store: slug, ExternalReference: q.externalReference, CustomerEmail: b.Email, Currency: q.Currency,
		TotalMinor: q.TotalMinor, ExpectedTotalMinor: &expected, PriceCheck: stores.PriceMatch, Source: q.source,
		Items: stores.PricedLines(q.listing, q.Currency, q.lines), CreatedAt: now, UpdatedAt: now,
		Tax: &stores.OrderTax{SubtotalMinor: q.SubtotalMinor, TaxMinor: q.TaxMinor, Included: q.TaxIncluded, Rate: q.TaxRate, Label: q.TaxLabel}}
	o.SetFingerprint(q.cartKey)
	ops, err := stores.PlacePendingOps(s.st.Tables, o)
	if err != nil {
		return nil, err
	}
	rec := map[string]types.AttributeValue{attrPSP: dynamo.S(string(p)), attrIdemKey: dynamo.S("tollgate-checkout-" + id),
		attrAmount: dynamo.N(q.TotalMinor), attrCurrency: dynamo.S(q.Currency), attrLocale: dynamo.S(q.Locale), attrStoreName: dynamo.S(q.StoreName),
		attrPaymentStat: dynamo.S(payStarted), attrStore: dynamo.S(slug), attrOrder: dynamo.S(id), dynamo.AttrCreatedAt: dynamo.Time(now)}
	if q.returnURLSuccess != "" {
		rec[attrReturnURL] = dynamo.S(q.returnURLSuccess)
	}
	if q.sessionID != "" {
		rec[attrSession] = dynamo.S(q.sessionID)
	}
	// The names the buyer saw, kept with the payment: a receipt names what
	// was bought even if the store renames the product later.
	names := map[string]types.AttributeValue{}
	for _, l := range q.Lines {
		names[l.SKU] = dynamo.S(l.Name)
	}
	rec[attrNames] = &types.AttributeValueMemberM{Value: names}
	for k, v := range paymentKey(slug, id) {
		rec[k] = v
	}
	ops = append(ops, dynamo.PutNewOp(s.st.Tables.Checkout, rec))
	err = s.st.Transact(ctx, ops)
	var failed *dynamo.ConditionFailedError
	if errors.As(err, &failed) {
		// Placed meanwhile (a double click): read what was placed.
		got, err := s.payment(ctx, slug, id)
		if err != nil {
			return nil, err
		}
		if got == nil {
			return nil, fmt.Errorf("checkout: order %s exists without its payment", id)
		}
		return got, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkout: place %s: %w", id, err)
	}
	return rec, nil
}

// recordIntent records the PSP's answer and the lookup row that finds the
// order from the PSP's id (refunds and disputes name only that).
func (s *Service) recordIntent(ctx context.Context, slug, id string, p psp.Type, res psp.IntentResult) error {
	set := map[string]types.AttributeValue{attrPaymentStat: dynamo.S(payCreated), attrPSPID: dynamo.S(res.PSPID)}
	if res.ClientSecret != "" {
		set[attrSecret] = dynamo.S(res.ClientSecret)
	}
	lookup := map[string]types.AttributeValue{attrStore: dynamo.S(slug), attrOrder: dynamo.S(id)}
	for k, v := range piKey(p, res.PSPID) {
		lookup[k] = v
	}
	err := s.st.Transact(ctx, []types.TransactWriteItem{
		dynamo.UpdateOp(s.st.Tables.Checkout, paymentKey(slug, id), dynamo.SetAll(set), dynamo.Cond(dynamo.Exists())),
		{Put: &types.Put{TableName: aws.String(s.st.Tables.Checkout), Item: lookup}},
	})
	if err != nil {
		return fmt.Errorf("checkout: record the intent of %s: %w", id, err)
	}
	return nil
}

// SandboxPay completes a sandbox payment with a test card: 4242424242424242
// succeeds, 4000000000000002 is declined (ErrDeclined). Success is the
// sandbox's payment_intent.succeeded, applied through the same path as
// Stripe's: fulfilment happens there. It answers where the buyer goes
// next: the session's return_url_success ("" none: the order page).
func (s *Service) SandboxPay(ctx context.Context, slug, orderID, card string) (returnURL string, err error) {
	if !s.sandboxOK {
		// An order placed while the sandbox was allowed is never paid by it
		// once it is off.
		return "", fmt.Errorf("%w: the sandbox is off (%s=false)", ErrNoPSP, EnvSandbox)
	}
	rec, err := s.payment(ctx, slug, orderID)
	if err != nil {
		return "", err
	}
	if rec == nil || dynamo.StringAttr(rec[attrPaymentStat]) != payCreated {
		return "", refusal.New(ErrNoOrder, "store %q has no payment for order %s", slug, orderID)
	}
	if psp.Type(dynamo.StringAttr(rec[attrPSP])) != psp.Sandbox {
		return "", refusal.New(ErrInvalid, "order %s is paid through %s, not the sandbox", orderID, dynamo.StringAttr(rec[attrPSP]))
	}
	switch strings.ReplaceAll(card, " ", "") {
	case sandbox.CardSucceeds:
	case sandbox.CardDeclines:
		return "", refusal.New(ErrDeclined, "the card was declined (sandbox test card %s)", sandbox.CardDeclines)
	default:
		return "", refusal.New(ErrInvalid, "use a sandbox test card: %s succeeds, %s is declined", sandbox.CardSucceeds, sandbox.CardDeclines)
	}
	amount, _ := dynamo.IntAttr(rec[attrAmount])
	meta := map[string]string{MetaStore: slug, MetaOrder: orderID}
	if sid := dynamo.StringAttr(rec[attrSession]); sid != "" {
		meta[MetaSession] = sid
	}
	n := sandbox.Succeeded(dynamo.StringAttr(rec[attrPSPID]), amount, dynamo.StringAttr(rec[attrCurrency]), meta, s.now().UTC())
	if _, err := s.apply(ctx, n); err != nil {
		return "", err
	}
	return dynamo.StringAttr(rec[attrReturnURL]), nil
}

// OrderView is an order as the customer's order page shows it.
type OrderView struct {
	OrderID, Store, StoreName, Status, Currency, Locale, CustomerEmail, ExternalReference string
	TotalMinor                                                                            int64
	// Amounts: subtotal, tax and total as charged (stores.Order.Amounts);
	// TaxLabel names the tax ("VAT 20%").
	Amounts          tax.Amounts
	AmountsKnown     bool // false: an order placed before orders kept their tax (the total alone is known)
	TaxLabel         string
	Items            []stores.OrderItem // LicenseKeys filled once fulfilled
	ProductNames     map[string]string  // sku -> name when bought
	ReturnURLSuccess string
	// DuplicateOf: this order paid a session another order had paid first;
	// its payment was refunded (names that order).
	DuplicateOf string
	// What the buyer's emails also show (Receipt).
	Source, SupportEmail string
	CreatedAt            time.Time
	Fulfilled            bool  // its keys were allocated
	KeysRevoked          bool  // refunded: its keys are no longer valid
	RefundedMinor        int64 // refunded so far
}

// Order reads a checkout order and, once fulfilled, its keys (ErrNoOrder).
// The keys of a refunded order are not shown: they are revoked.
func (s *Service) Order(ctx context.Context, slug, id string) (OrderView, error) {
	if !stores.ValidSlug(slug) || !stores.ValidOrderID(id) {
		return OrderView{}, refusal.New(ErrNoOrder, "no such order")
	}
	rec, err := s.payment(ctx, slug, id)
	if err != nil {
		return OrderView{}, err
	}
	if rec == nil {
		return OrderView{}, refusal.New(ErrNoOrder, "store %q has no checkout order %s", slug, id)
	}
	o, found, err := s.ful.ReadOrder(ctx, slug, id)
	if err != nil {
		return OrderView{}, err
	}
	if !found {
		return OrderView{}, refusal.New(ErrNoOrder, "store %q has no checkout order %s", slug, id)
	}
	if o.KeysRevoked {
		for i := range o.Items {
			o.Items[i].LicenseKeys = nil
		}
	}
	names := productNames(rec)
	amounts, known := o.Amounts()
	label := ""
	if o.Tax != nil {
		label = o.Tax.Label
	}
	return OrderView{OrderID: o.ID, Store: slug, StoreName: dynamo.StringAttr(rec[attrStoreName]), Status: o.Status, Currency: o.Currency,
		Amounts: amounts, AmountsKnown: known, TaxLabel: label,
		Locale: dynamo.StringAttr(rec[attrLocale]), CustomerEmail: o.CustomerEmail, ExternalReference: o.ExternalReference,
		TotalMinor: o.TotalMinor, Items: o.Items, ProductNames: names, ReturnURLSuccess: dynamo.StringAttr(rec[attrReturnURL]),
		DuplicateOf: dynamo.StringAttr(rec[attrDuplicateOf])}, nil
}

// MarketItem is a product listed on /market/.
type MarketItem struct {
	Store, StoreName, SKU, Name string
	Prices                      map[string]int64
}

// Market lists every store's marketplace products.
func (s *Service) Market(ctx context.Context) ([]MarketItem, error) {
	ps, err := stores.Market(ctx, s.st)
	if err != nil {
		return nil, err
	}
	out := make([]MarketItem, 0, len(ps))
	for _, p := range ps {
		out = append(out, MarketItem{Store: p.Store, StoreName: p.StoreName, SKU: p.SKU, Name: p.Name, Prices: p.Prices})
	}
	return out, nil
}

// productNames reads the names of the products as the buyer saw them when
// paying (sku -> name), from a payment record.
func productNames(rec map[string]types.AttributeValue) map[string]string {
	names := map[string]string{}
	if m, ok := rec[attrNames].(*types.AttributeValueMemberM); ok {
		for sku, v := range m.Value {
			names[sku] = dynamo.StringAttr(v)
		}
	}
	return names
}
