package checkoutweb

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/delivery"
	"github.com/tollgate-dev/tollgate/shared/platform/mail"
	"github.com/tollgate-dev/tollgate/shared/platform/outbox"
	"github.com/tollgate-dev/tollgate/shared/platform/signing"
	"github.com/tollgate-dev/tollgate/shared/platform/webpage"
	"github.com/tollgate-dev/tollgate/shared/storefront/checkout"
	"github.com/tollgate-dev/tollgate/shared/storefront/stores"
)

// The buyer's emails: the receipt of a fulfilled order (its license keys)
// and the notice of a refund (its keys revoked), in the checkout's locale,
// as a plain-text and an HTML part (html/template escapes every value).
// They are rendered when sent, from the order as it is then: the outbox
// event names the order, never its keys (docs/email.md).

// Receipts is what the emails need of the checkout; *checkout.Service has it.
type Receipts interface {
	Receipt(ctx context.Context, slug, id string) (checkout.OrderView, error)
}

var _ Receipts = (*checkout.Service)(nil)

// Mailer is the dispatcher's courier of the stores' email events
// (stores.EmailKind): it renders each email and sends it with Sender.
type Mailer struct {
	Orders Receipts
	Signer signing.Signer // signs the order page's link
	// BaseURL is the absolute origin of the checkout pages (no trailing
	// slash): the order link's. "": the email has no link.
	BaseURL string
	From    string // the sender: an SES-verified identity ("" none: emails are undeliverable)
	Sender  mail.Sender
}

//go:embed email/receipt.html
var receiptHTML string

//go:embed email/receipt.txt
var receiptText string

var receiptEmail = webpage.MustEmail("receipt", receiptText, receiptHTML)

// emailView is the data of both parts of an email.
type emailView struct {
	L                                       Locale
	Subject, StoreName, OrderID, Date, Link string
	Support                                 string
	Refund, Itemized, KeysRevoked           bool
	Sum                                     summary
	RefundedMinor                           int64
}

// Prepare renders the email of event ev and answers its one send. An
// event that names no order, or whose order or buyer address is gone, is
// undeliverable (delivery.ErrNoTarget); no sender address configured too.
func (m *Mailer) Prepare(ctx context.Context, ev outbox.Stored) (func(ctx context.Context) (string, error), error) {
	e, err := stores.ParseEmail(ev)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", delivery.ErrRefused, err)
	}
	if m.From == "" || m.Sender == nil {
		return nil, fmt.Errorf("%w: no sender address (MailFrom) is configured", delivery.ErrNoTarget)
	}
	o, err := m.Orders.Receipt(ctx, e.Store, e.OrderID)
	if errors.Is(err, checkout.ErrNoOrder) {
		return nil, fmt.Errorf("%w: order %s of %s is gone", delivery.ErrNoTarget, e.OrderID, e.Store)
	}
	if err != nil {
		return nil, err
	}
	if o.CustomerEmail == "" {
		return nil, fmt.Errorf("%w: order %s has no buyer address", delivery.ErrNoTarget, e.OrderID)
	}
	msg, err := m.Render(ctx, ev, o, e)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (string, error) { return m.Sender.Send(ctx, msg) }, nil
}

// Render builds the email of event ev about order o.
func (m *Mailer) Render(ctx context.Context, ev outbox.Stored, o checkout.OrderView, e stores.Email) (mail.Message, error) {
	l := newLocale(o.Locale)
	v := emailView{L: l, StoreName: o.StoreName, OrderID: o.OrderID, Date: ev.At.UTC().Format("2006-01-02 15:04 UTC"),
		Support: o.SupportEmail, Refund: ev.Type == stores.EmailRefund, KeysRevoked: o.KeysRevoked && o.Fulfilled,
		RefundedMinor: e.RefundedMinor}
	v.Sum, v.Itemized = receiptAmounts(o)
	if v.StoreName == "" {
		v.StoreName = o.Store
	}
	subject := "mail_receipt_subject"
	if v.Refund {
		subject = "mail_refund_subject"
	}
	v.Subject = v.StoreName + ": " + l.T(subject) + " " + o.OrderID
	// The order page exists for checkout orders (its payment record).
	if m.BaseURL != "" && o.Source != stores.SourceAPI {
		link, err := orderLink(ctx, m.Signer, o.Store, o.OrderID)
		if err != nil {
			return mail.Message{}, err
		}
		v.Link = m.BaseURL + link
	}
	text, html, err := receiptEmail.Render(v)
	if err != nil {
		return mail.Message{}, fmt.Errorf("checkoutweb: email of %s: %w", ev.ID, err)
	}
	return mail.Message{From: mail.WithName(v.StoreName, m.From), To: o.CustomerEmail, ReplyTo: o.SupportEmail, Subject: v.Subject, Text: text,
		HTML: html, ID: ev.ID, Date: time.Now(), Headers: map[string]string{"X-Tollgate-Event-Id": ev.ID}}, nil
}

// receiptAmounts is the one place the emails take their amounts from the
// order: the lines and, for a checkout order, subtotal and tax as it
// recorded them when charged (OrderView.Amounts, what the pages show); a
// licensing order shows its total only.
func receiptAmounts(o checkout.OrderView) (summary, bool) {
	return summarize(o), o.AmountsKnown && o.Source != stores.SourceAPI
}
