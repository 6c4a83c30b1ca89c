package checkoutweb

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/mail"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/refusal"
	"github.com/tollgate-dev/tollgate/shared/platform/secrets"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
	"github.com/tollgate-dev/tollgate/shared/storefront/tax"
)

func price(n int64) *int64 { return &n }

func receiptOrder() checkout.OrderView {
	return checkout.OrderView{OrderID: "ORD-ABCDEFGHJKMN", Store: "evil-store", StoreName: "Evil <script>alert('store')</script>",
		Status: stores.StatusFulfilled, Currency: "GBP", Locale: "en", CustomerEmail: "buyer@example.com", TotalMinor: 7198,
		Items:        []stores.OrderItem{{SKU: "EVIL-1", Quantity: 2, UnitPriceMinor: price(2999), LicenseKeys: []string{"KEY-<1>", "KEY-&2"}}},
		ProductNames: map[string]string{"EVIL-1": `<img src=x onerror=alert(1)>"'&`}, Source: stores.SourceCheckout,
		SupportEmail: "help@evil.example", Fulfilled: true,
		// Tax added to the prices, as recorded when charged.
		Amounts: tax.Amounts{SubtotalMinor: 5998, TaxMinor: 1200, TotalMinor: 7198}, AmountsKnown: true}
}

type receiptsFunc func(ctx context.Context, slug, id string) (checkout.OrderView, error)

func (f receiptsFunc) Receipt(ctx context.Context, slug, id string) (checkout.OrderView, error) {
	return f(ctx, slug, id)
}

func testMailer(o checkout.OrderView, err error) *Mailer {
	return &Mailer{Orders: receiptsFunc(func(context.Context, string, string) (checkout.OrderView, error) { return o, err }),
		Signer: signing.New(secrets.Static{secrets.CheckoutSigningKey: "k"}), BaseURL: "https://shop.example",
		From: "receipts@tollgate.example", Sender: mail.Dir{}}
}

func emailEvent(typ string, refunded int64) outbox.Stored {
	payload := `{"store":"evil-store","order_id":"ORD-ABCDEFGHJKMN"}`
	if refunded > 0 {
		payload = `{"store":"evil-store","order_id":"ORD-ABCDEFGHJKMN","refunded_minor":7198}`
	}
	return outbox.Stored{Event: outbox.Event{ID: "email:store:evil-store:order:ORD-ABCDEFGHJKMN:" + typ, Type: typ,
		Payload: []byte(payload), At: time.Date(2026, 12, 7, 13, 5, 0, 0, time.UTC)}}
}

func TestReceiptRender(t *testing.T) {
	cases := []struct {
		name                string
		edit                func(o *checkout.OrderView)
		typ                 string
		subject             string
		html, text, notHTML []string
	}{
		{name: "receipt, hostile names escaped", typ: stores.EmailReceipt,
			subject: "Evil <script>alert('store')</script>: receipt for order ORD-ABCDEFGHJKMN",
			html: []string{"Evil &lt;script&gt;alert(&#39;store&#39;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;&#34;&#39;&amp;",
				`<code class="license-key" style="font-size: 1.05em;">KEY-&lt;1&gt;</code>`, "KEY-&amp;2", "£59.98", "£12.00", "£71.98",
				`href="https://shop.example/s/evil-store/orders/ORD-ABCDEFGHJKMN/?sig=`, `href="mailto:help@evil.example"`},
			text:    []string{"KEY-<1>", "KEY-&2", "Subtotal: £59.98", "Tax: £12.00", "Total: £71.98", "https://shop.example/s/evil-store/orders/ORD-ABCDEFGHJKMN/?sig=", "Questions? Write to help@evil.example"},
			notHTML: []string{"<script>", "<img"}},
		{name: "German", typ: stores.EmailReceipt, edit: func(o *checkout.OrderView) { o.Locale = "de-DE" },
			subject: "Evil <script>alert('store')</script>: Beleg zur Bestellung ORD-ABCDEFGHJKMN",
			html:    []string{`lang="de"`, "59,98\u00a0£", "Zwischensumme"}, text: []string{"Gesamt: 71,98\u00a0£", "Lizenzschlüssel"}},
		{name: "refund notice", typ: stores.EmailRefund, edit: func(o *checkout.OrderView) {
			o.Status, o.KeysRevoked, o.RefundedMinor = stores.StatusRefunded, true, 7198
			o.Items[0].LicenseKeys = nil
		},
			subject: "Evil <script>alert('store')</script>: refund of order ORD-ABCDEFGHJKMN",
			html:    []string{"Your order has been refunded.", "revoked and no longer work", "Refunded"},
			text:    []string{"Refunded: £71.98", "The license keys of this order are revoked"}, notHTML: []string{"KEY-"}},
		{name: "licensing order: its total, no link", typ: stores.EmailReceipt, edit: func(o *checkout.OrderView) {
			o.Source, o.TotalMinor = stores.SourceAPI, 5000
		},
			subject: "Evil <script>alert('store')</script>: receipt for order ORD-ABCDEFGHJKMN",
			text:    []string{"Total: £50.00", "KEY-<1>"}, notHTML: []string{"Subtotal", "/orders/"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := receiptOrder()
			if c.edit != nil {
				c.edit(&o)
			}
			ev := emailEvent(c.typ, o.RefundedMinor)
			e, err := stores.ParseEmail(ev)
			if err != nil {
				t.Fatal(err)
			}
			m, err := testMailer(o, nil).Render(context.Background(), ev, o, e)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != c.subject || m.To != "buyer@example.com" || m.ReplyTo != "help@evil.example" || m.ID != ev.ID {
				t.Fatalf("message %q to %q reply %q id %q", m.Subject, m.To, m.ReplyTo, m.ID)
			}
			if !strings.HasPrefix(m.From, `"Evil <script>alert('store')</script>" <receipts@tollgate.example>`) {
				t.Fatalf("From %q", m.From)
			}
			for _, want := range c.html {
				if !strings.Contains(m.HTML, want) {
					t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
				}
			}
			for _, want := range c.text {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
			for _, bad := range c.notHTML {
				if strings.Contains(m.HTML, bad) {
					t.Errorf("HTML holds %q:\n%s", bad, m.HTML)
				}
			}
			if _, err := mail.Build(m); err != nil {
				t.Fatalf("the message does not build: %v", err)
			}
		})
	}
}

// What cannot be sent is said precisely: a payload that names no order is
// dead at once; a missing order, buyer address or sender is undeliverable
// (replayable once it exists).
func TestReceiptPrepareRefusals(t *testing.T) {
	noOrder := refusal.New(checkout.ErrNoOrder, "gone")
	noEmail := receiptOrder()
	noEmail.CustomerEmail = ""
	noFrom := testMailer(receiptOrder(), nil)
	noFrom.From = ""
	bad := emailEvent(stores.EmailReceipt, 0)
	bad.Payload = []byte(`{"store":"../x"}`)
	for _, c := range []struct {
		name string
		m    *Mailer
		ev   outbox.Stored
		want error
	}{
		{"bad payload", testMailer(receiptOrder(), nil), bad, delivery.ErrRefused},
		{"order gone", testMailer(checkout.OrderView{}, noOrder), emailEvent(stores.EmailReceipt, 0), delivery.ErrNoTarget},
		{"no buyer address", testMailer(noEmail, nil), emailEvent(stores.EmailReceipt, 0), delivery.ErrNoTarget},
		{"no sender", noFrom, emailEvent(stores.EmailReceipt, 0), delivery.ErrNoTarget},
	} {
		if _, err := c.m.Prepare(context.Background(), c.ev); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
