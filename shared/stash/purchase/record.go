// Package purchase is Stash's two-step purchase flow on DynamoDB: register
// (reserve stock and per-player limits), confirm (turn the reservation into a
// sale and grant the items), cancel (release the reservation), and the sweep
// that releases reservations nobody confirmed in time. Every step is one
// TransactWriteItems whose first item is the purchase record's conditional
// state change, so each effect happens once however often Stash retries.
//
// It also serves the older single-call authorization (Authorize) and Stash's
// webhooks (Webhooks), and owns the layout of the transactions table's
// items: purchase records ("purchase#<transactionId>"), refund records
// ("refund#..."), authorization records ("authorization#<transactionId>")
// and webhook delivery records ("delivery#..."). The idempotency envelope
// every record shares (key, fingerprint, stored answer) is dynamo.Record's.
//
// A purchase record moves REGISTERED → CONFIRMED or REGISTERED → CANCELLED
// (by Stash or by expiry); a registration that fails is recorded as REJECTED
// with its statuses; a refund before the grant makes it REFUNDED.
package purchase

import (
	"cmp"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
	"github.com/tollgate-dev/tollgate/shared/stash/players"
)

// States of a purchase record.
const (
	StateRegistered = "REGISTERED"
	StateConfirmed  = "CONFIRMED"
	StateCancelled  = "CANCELLED"
	StateRejected   = "REJECTED"
	// StateRefunded: refunded before anything was granted (the refund came
	// first, or while the purchase was only registered); nothing will be.
	StateRefunded = "REFUNDED"
)

// Cancel reasons.
const (
	ReasonRequest = "request" // Stash called cancel
	ReasonExpired = "expired" // the sweeper released an unconfirmed reservation
	ReasonRefund  = "refund"  // Stash refunded the purchase before it was confirmed
)

// Attribute names of a purchase record (besides dynamo.Record's).
const (
	attrState         = "state"
	attrPlayer        = "playerId"
	attrCurrency      = "currency"
	attrItems         = "items"    // JSON of []Line
	attrItemsKey      = "itemsKey" // canonical products and quantities (itemsKey)
	attrReservedUntil = "reservedUntil"
	attrConfirmFP     = "confirmFingerprint"
	attrConfirmResp   = "confirmResponse"
	attrConfirmedAt   = "confirmedAt"
	attrConfirmedVia  = "confirmedVia"
	attrCancelledAt   = "cancelledAt"
	attrCancelReason  = "cancelReason"
	attrCancelFP      = "cancelFingerprint"
	attrGranted       = "granted"  // JSON of []players.Item: what a confirm granted
	attrRefunded      = "refunded" // JSON of map[productId]units revoked by refunds so far
	attrKind          = "kind"     // what a record of the transactions table is: the kind* values
	attrCreatedAt     = dynamo.AttrCreatedAt
	attrEnvironment   = "environment"

	// Attributes of refund and webhook delivery records.
	attrOrderID    = "orderId"
	attrRefundID   = "refundId"
	attrOutcome    = "outcome"
	attrRevoked    = "revoked" // JSON of []players.Item
	attrDebts      = "debts"   // JSON of []players.Item
	attrType       = "type"
	attrMessage    = "message"
	attrRetryCount = "retryCount"
	attrReceivedAt = "receivedAt"
	attrRawBody    = "rawBody"

	// The sweep index (GSI "sweep") holds only REGISTERED records: both
	// attributes are removed when a purchase leaves that state. Its
	// partition key is spread over sweepShards values so that a burst of
	// registrations does not land on one index partition.
	SweepIndex  = "sweep"
	attrSweepPK = "sweepPk"
	attrSweepAt = "sweepAt" // reservedUntil, unix milliseconds
	sweepShards = 8
)

// Kinds of the transactions table's records.
const (
	kindPurchase      = "purchase"
	kindRefund        = "refund"
	kindAuthorization = "authorization"
	kindDelivery      = "webhook-delivery"
)

// sweepPartition is the sweep index partition of shard n.
func sweepPartition(n int) string { return "REGISTERED#" + strconv.Itoa(n) }

// sweepShardOf picks a transaction's shard of the sweep index.
func sweepShardOf(transactionID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(transactionID)) // a hash.Hash's Write never returns an error
	return int(h.Sum32() % sweepShards)
}

// Line is a reserved (or sold) product line: what a record remembers.
type Line struct {
	ProductID string `json:"productId"`
	GUID      string `json:"guid,omitempty"`
	Quantity  int64  `json:"quantity"`
	Cents     int64  `json:"cents,omitempty"`
}

// recordKeyOf is the key of a purchase record.
func recordKeyOf(transactionID string) string { return purchasePrefix + transactionID }

const purchasePrefix = "purchase#"

// itemsKey is the canonical form of a set of lines: product ids with their
// quantities, in product id order, as one dynamo.Tuple (a product id cannot
// pose as several lines). Confirm and cancel match the registration by it.
func itemsKey(lines []Line) string {
	sorted := slices.SortedFunc(slices.Values(lines), func(a, b Line) int { return cmp.Compare(a.ProductID, b.ProductID) })
	parts := make([]string, 0, 2*len(sorted))
	for _, l := range sorted {
		parts = append(parts, l.ProductID, strconv.FormatInt(l.Quantity, 10))
	}
	return dynamo.Tuple(parts...)
}

// record is a purchase record as read back.
type record struct {
	Exists        bool
	State         string
	PlayerID      string
	ItemsKey      string
	Items         []Line
	ConfirmFP     string
	ConfirmResp   []byte
	CancelReason  string
	CancelFP      string
	ReservedUntil time.Time
	Granted       map[string]int64
	Refunded      map[string]int64
	RefundedRaw   string // the attribute as stored, for the optimistic condition
}

func parseRecord(item map[string]types.AttributeValue) (record, error) {
	r := record{Exists: len(item) > 0}
	if !r.Exists {
		return r, nil
	}
	r.State = dynamo.StringAttr(item[attrState])
	r.PlayerID = dynamo.StringAttr(item[attrPlayer])
	r.ItemsKey = dynamo.StringAttr(item[attrItemsKey])
	r.ConfirmFP = dynamo.StringAttr(item[attrConfirmFP])
	r.ConfirmResp = dynamo.BytesAttr(item[attrConfirmResp])
	r.CancelReason = dynamo.StringAttr(item[attrCancelReason])
	r.CancelFP = dynamo.StringAttr(item[attrCancelFP])
	if ms, err := dynamo.IntAttr(item[attrReservedUntil]); err == nil {
		r.ReservedUntil = time.UnixMilli(ms)
	}
	if raw := dynamo.StringAttr(item[attrGranted]); raw != "" {
		var granted []struct {
			ProductID string `json:"productId"`
			Quantity  int64  `json:"quantity"`
		}
		if err := json.Unmarshal([]byte(raw), &granted); err != nil {
			return r, fmt.Errorf("purchase record: granted: %w", err)
		}
		r.Granted = map[string]int64{}
		for _, g := range granted {
			r.Granted[g.ProductID] += g.Quantity
		}
	}
	r.RefundedRaw = dynamo.StringAttr(item[attrRefunded])
	if r.RefundedRaw != "" {
		if err := json.Unmarshal([]byte(r.RefundedRaw), &r.Refunded); err != nil {
			return r, fmt.Errorf("purchase record: refunded: %w", err)
		}
	}
	if raw := dynamo.StringAttr(item[attrItems]); raw != "" {
		if err := json.Unmarshal([]byte(raw), &r.Items); err != nil {
			return r, fmt.Errorf("purchase record: items: %w", err)
		}
	}
	return r, nil
}

func linesJSON(lines []Line) string {
	b, _ := json.Marshal(lines)
	return string(b)
}

func recordKey(transactionID string) dynamo.Key { return dynamo.PK(recordKeyOf(transactionID)) }

// Conditions on a purchase record, composed by the steps' state changes.
func stateIs(state string) expression.ConditionBuilder {
	return expression.Name(attrState).Equal(expression.Value(state))
}

func playerIs(playerID string) expression.ConditionBuilder {
	return expression.Name(attrPlayer).Equal(expression.Value(playerID))
}

func itemsKeyIs(key string) expression.ConditionBuilder {
	return expression.Name(attrItemsKey).Equal(expression.Value(key))
}

// stateChange is the first item of confirm, cancel, sweep and refund
// transactions: the record takes the attributes of set (and loses those of
// remove) only if cond, what the caller believes the record holds, is true.
func (s *Service) stateChange(txID string, cond expression.ConditionBuilder, set map[string]types.AttributeValue, remove ...string) types.TransactWriteItem {
	return dynamo.UpdateOp(s.Store.Tables.Transactions, recordKey(txID), dynamo.RemoveAll(dynamo.SetAll(set), remove...), &cond)
}

// leaveSweep are the attributes a record loses when it leaves REGISTERED.
var leaveSweep = []string{attrSweepPK, attrSweepAt}

// mergeLines merges lines of one product (players.MergeByProduct).
func mergeLines(lines []Line) []Line {
	return players.MergeByProduct(lines, func(l *Line) (string, *int64) { return l.ProductID, &l.Quantity })
}

// opKind says what a transaction item does, to explain a failed condition.
type opKind int

const (
	opRecord  opKind = iota // the purchase record
	opReserve               // catalog: reserve (or reserve and sell) units
	opCounter               // players: count units against the per-player limit
)

type op struct {
	kind    opKind
	product string
	line    Line
}
