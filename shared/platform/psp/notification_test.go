package psp_test

import (
	"testing"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

func TestMismatch(t *testing.T) {
	charge := psp.Recorded{PSPTransactionID: "pi_1", Currency: "GBP", Captured: 3599}
	for _, tt := range []struct {
		name     string
		n        psp.Notification
		c        psp.Recorded
		mismatch bool
	}{
		{"refund within the capture", psp.Notification{Kind: psp.NotifyRefunded, PSPTransactionID: "pi_1", Currency: "GBP", Amount: 3599}, charge, false},
		{"refund above the capture", psp.Notification{Kind: psp.NotifyRefunded, PSPTransactionID: "pi_1", Currency: "GBP", Amount: 99999}, charge, true},
		{"another PaymentIntent", psp.Notification{Kind: psp.NotifyRefunded, PSPTransactionID: "pi_2", Currency: "GBP", Amount: 1}, charge, true},
		{"another currency", psp.Notification{Kind: psp.NotifyRefunded, PSPTransactionID: "pi_1", Currency: "EUR", Amount: 1}, charge, true},
		{"chargeback above the capture", psp.Notification{Kind: psp.NotifyDisputeOpened, PSPTransactionID: "pi_1", Currency: "GBP", Amount: 3600}, charge, true},
		{"success of an uncaptured charge", psp.Notification{Kind: psp.NotifySucceeded, PSPTransactionID: "pi_1", Currency: "GBP", Amount: 3599}, psp.Recorded{PSPTransactionID: "pi_1", Currency: "GBP"}, false},
		{"refund of an uncaptured pre-authorization", psp.Notification{Kind: psp.NotifyRefunded, PSPTransactionID: "pi_1", Currency: "GBP", Amount: 1}, psp.Recorded{PSPTransactionID: "pi_1", Currency: "GBP"}, true},
		{"no PSP id recorded yet", psp.Notification{Kind: psp.NotifySucceeded, PSPTransactionID: "pi_9", Currency: "GBP"}, psp.Recorded{Currency: "GBP"}, false},
	} {
		if got := psp.Mismatch(tt.n, tt.c); (got != "") != tt.mismatch {
			t.Errorf("%s: Mismatch = %q, want mismatch %v", tt.name, got, tt.mismatch)
		}
	}
}
