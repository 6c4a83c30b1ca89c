// Package payments is Tollgate's payments API (the API of MobiLab's
// "Stash!" backend): merchants and their keys, aliases (tokenised payment methods),
// pre-authorizations and authorizations, capture, reversal and refunds,
// through the PSP adapters of shared/platform/psp, each money movement exactly once.
//
// It owns the PaymentsTable (pk, sk):
//
//	merchant     pk ("merchant", id)          sk "#"   name, webhookUrl, createdAt
//	key          pk ("key", digest)           sk "#"   merchant, kind (secret|publishable), createdAt, revokedAt?
//	alias        pk ("alias", id)             sk "#"   merchant, pspType, testMode, state, pspAlias, paymentMethod, extra
//	idempotency  pk ("idem", merchant, key)   sk "#"   fingerprint, state (pending|done), txn, pspKey, leaseUntil, answer
//	transaction  pk ("txn", id)               sk "#"   merchant, alias, pspType, testMode, amount, currency, reason,
//	                                                   action, status, pspId, captured, refunded, refundReserved, inflight...
//	action       pk ("txn", id)               sk ("action", at, name)  one row per PSP outcome: the history
//
// Every call to a PSP sits between two writes: the intent (with the PSP
// idempotency key it will use) and the result. A call whose process dies in
// between leaves the intent; the merchant's retry takes it over and calls
// the PSP again with the same key, which the PSP answers with the first
// outcome. So a customer is charged once, whatever fails.
package payments

import (
	"errors"
	"time"

	"github.com/tollgate-dev/tollgate/shared/platform/psp"
)

// Reasons of the refusals the payments API answers (errors.Is on a
// *refusal.Error); its HTTP layer maps each to the original's error code.
var (
	ErrUnauthorized       = errors.New("authentication failed")                    // 1000
	ErrPublishableKey     = errors.New("publishable key not found")                // 3000
	ErrSecretKey          = errors.New("secret key not found")                     // 3001
	ErrPSPNotConfigured   = errors.New("no configuration for this PSP")            // 3003
	ErrAliasNotFound      = errors.New("alias not found")                          // 3005
	ErrAliasOtherMerchant = errors.New("alias of another merchant")                // 3006
	ErrAliasIncomplete    = errors.New("alias not exchanged")                      // 3007
	ErrTransactionMissing = errors.New("transaction not found")                    // 3012
	ErrAlreadyCaptured    = errors.New("transaction already captured")             // 3013
	ErrTestModeMismatch   = errors.New("PSP test mode differs")                    // 3014
	ErrNotAllowed         = errors.New("action not allowed in this state")         // 3016
	ErrSEPAPreauth        = errors.New("SEPA cannot be pre-authorized")            // 3017
	ErrRefundExceeds      = errors.New("refunds would exceed the captured amount") // 3018
	ErrIdempotency        = errors.New("idempotency violation")                    // 3021
	ErrInProgress         = errors.New("the same request is in progress")          // 409
	ErrPSP                = errors.New("PSP failure")                              // 4000
)

// Actions of a transaction.
const (
	ActionPreauth  = "PREAUTH"
	ActionAuth     = "AUTH"
	ActionCapture  = "CAPTURE"
	ActionReversal = "REVERSAL"
	ActionRefund   = "REFUND"
)

// Answer is what every money-moving call answers (and what is recorded).
type Answer struct {
	ID             string `json:"id"`
	TransactionID  string `json:"transactionId"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	Status         string `json:"status"`
	Action         string `json:"action"`
	AdditionalInfo string `json:"additionalInfo,omitempty"`
}

func answerOf(txnID string, amount int64, currency string, action string, r psp.Result) Answer {
	return Answer{ID: txnID, TransactionID: txnID, Amount: amount, Currency: currency, Status: string(r.Status), Action: action, AdditionalInfo: r.Message}
}

// Transaction is a transaction with its history, as GET answers it.
type Transaction struct {
	Answer
	Reason     string   `json:"reason,omitempty"`
	AliasID    string   `json:"aliasId"`
	PurchaseID string   `json:"purchaseId,omitempty"`
	CustomerID string   `json:"customerId,omitempty"`
	TestMode   bool     `json:"pspTestMode"`
	Captured   int64    `json:"capturedAmount"`
	Refunded   int64    `json:"refundedAmount"`
	CreatedAt  string   `json:"createdAt"`
	History    []Action `json:"actions"`
}

// Action is one PSP outcome in a transaction's history.
type Action struct {
	Action         string `json:"action"`
	Status         string `json:"status"`
	Amount         int64  `json:"amount"`
	AdditionalInfo string `json:"additionalInfo,omitempty"`
	At             string `json:"at"`
}

// Limits and defaults.
const (
	MinIdempotentKey = 10
	MaxIdempotentKey = 40
	// lease is how long a request holds an intent before another may take
	// it over: longer than a PSP call may take (the adapters' timeout).
	lease = 30 * time.Second
	// waitForTwin is how long a concurrent duplicate waits for the first
	// request's answer before it is told to retry.
	waitForTwin = 5 * time.Second
)
