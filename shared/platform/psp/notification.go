package psp

import (
	"strconv"
	"time"
)

// NotificationKind is what a PSP notification (Stripe: a webhook event; the
// sandbox: a settlement) tells the payments domain, PSP-neutral.
type NotificationKind string

// The kinds of notification the payments domain acts on. Everything else a
// PSP sends is NotifyIgnored: acknowledged, not applied.
const (
	// NotifySucceeded: a charge settled SUCCESS (a PENDING one, or a
	// confirmation of one already known).
	NotifySucceeded NotificationKind = "SUCCEEDED"
	// NotifyFailed: a charge settled FAIL (Message says why).
	NotifyFailed NotificationKind = "FAILED"
	// NotifyCanceled: a pre-authorization was canceled (reversed or expired).
	NotifyCanceled NotificationKind = "CANCELED"
	// NotifyRefunded: Amount is the charge's refunded total so far (not this
	// refund's amount): the domain records the difference to what it knows.
	NotifyRefunded NotificationKind = "REFUNDED"
	// NotifyDisputeOpened: a chargeback of Amount.
	NotifyDisputeOpened NotificationKind = "DISPUTE_OPENED"
	// NotifyDisputeClosed: DisputeWon says whether the chargeback was
	// reversed in the merchant's favour.
	NotifyDisputeClosed NotificationKind = "DISPUTE_CLOSED"
	// NotifyDisputeUpdated: a dispute changed (updated, funds withdrawn or
	// reinstated); DisputeStatus says its state. The payments API ignores it.
	NotifyDisputeUpdated NotificationKind = "DISPUTE_UPDATED"
	// NotifyIgnored: a verified notification of a type the payments API does
	// not act on.
	NotifyIgnored NotificationKind = "IGNORED"
)

// Notification is one verified PSP notification. The domain applies it once
// per EventID, in any order.
type Notification struct {
	PSP       Type
	EventID   string // the PSP's event id (Stripe: evt_...): apply once
	EventType string // the PSP's name of it (Stripe: payment_intent.succeeded)
	Kind      NotificationKind
	// PSPTransactionID is the charge's id as Result.PSPTransactionID names it
	// (Stripe: the PaymentIntent id, also for refund and dispute events).
	PSPTransactionID string
	// ObjectID is the id of the object the event is about when it is not the
	// charge itself (Stripe: ch_... for charge.refunded, dp_... for disputes).
	ObjectID   string
	Status     Status // the charge's status this notification settles, where it says
	Amount     int64  // minor units; see the kinds for what it counts
	Currency   string // ISO 4217, upper case
	Message    string // a decline, cancellation or dispute reason
	DisputeWon bool   // NotifyDisputeClosed only
	// DisputeStatus is the dispute's status at the PSP (Stripe:
	// needs_response, under_review, won, lost, ...), for every dispute kind.
	DisputeStatus string
	// Metadata is the PSP object's metadata (Charge.Metadata as sent), which
	// routes the notification to its merchant and transaction.
	Metadata map[string]string
	TestMode bool // the PSP's test mode (Stripe: livemode false)
	Created  time.Time
}

// Recorded is what the side that took a payment recorded of it, to check a
// notification against: the PSP's id of the charge (Stripe: the
// PaymentIntent id; "" when none is recorded yet), its currency and how
// much of it was captured (what refunds and chargebacks can reach).
type Recorded struct {
	PSPTransactionID string
	Currency         string
	Captured         int64
}

// Mismatch says why notification n cannot be about charge c ("" when it
// can): another PSP id, another currency, or a refunded total or
// chargeback above what was captured. A notification that does not match
// changes nothing; it is recorded as such.
func Mismatch(n Notification, c Recorded) string {
	switch {
	case c.PSPTransactionID != "" && n.PSPTransactionID != "" && n.PSPTransactionID != c.PSPTransactionID:
		return "it names " + n.PSPTransactionID + ", the charge is " + c.PSPTransactionID
	case c.Currency != "" && n.Currency != "" && n.Currency != c.Currency:
		return "it is in " + n.Currency + ", the charge in " + c.Currency
	case (n.Kind == NotifyRefunded || n.Kind == NotifyDisputeOpened) && n.Amount > c.Captured:
		return "its amount " + strconv.FormatInt(n.Amount, 10) + " exceeds the " + strconv.FormatInt(c.Captured, 10) + " captured"
	}
	return ""
}
