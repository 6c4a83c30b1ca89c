// Package purchase is Stash's two-step purchase flow on DynamoDB: register
// (reserve stock and per-player limits), confirm (turn the reservation into a
// sale and grant the items), cancel (release the reservation), and the sweep
// that releases reservations nobody confirmed in time. Every step is one
// TransactWriteItems whose first item is the purchase record's conditional
// state change, so each effect happens once however often Stash retries.
//
// A purchase record lives in the transactions table under
// "purchase#<transactionId>" and moves REGISTERED → CONFIRMED or
// REGISTERED → CANCELLED (by Stash or by expiry); a registration that fails is
// recorded as REJECTED with its statuses.
package purchase

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/store"
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

// Attribute names of a purchase record (besides store.Record's).
const (
	attrState         = "state"
	attrPlayer        = "playerId"
	attrCurrency      = "currency"
	attrItems         = "items"    // JSON of []Line
	attrItemsKey      = "itemsKey" // canonical product*quantity list
	attrReservedUntil = "reservedUntil"
	attrConfirmFP     = "confirmFingerprint"
	attrConfirmResp   = "confirmResponse"
	attrConfirmedAt   = "confirmedAt"
	attrConfirmedVia  = "confirmedVia"
	attrCancelledAt   = "cancelledAt"
	attrCancelReason  = "cancelReason"
	attrCancelFP      = "cancelFingerprint"
	attrGranted       = "granted"  // JSON of []inventory.Item: what a confirm granted
	attrRefunded      = "refunded" // JSON of map[productId]units revoked by refunds so far

	// The sweep index (GSI "sweep") holds only REGISTERED records: both
	// attributes are removed when a purchase leaves that state. Its
	// partition key is spread over sweepShards values so that a burst of
	// registrations does not land on one index partition.
	SweepIndex  = "sweep"
	attrSweepPK = "sweepPk"
	attrSweepAt = "sweepAt" // reservedUntil, unix milliseconds
	sweepShards = 8
)

// sweepPartition is the sweep index partition of shard n.
func sweepPartition(n int) string { return "REGISTERED#" + strconv.Itoa(n) }

// sweepShard picks a transaction's shard of the sweep index.
func sweepShardOf(transactionID string) int {
	h := fnv.New32a()
	h.Write([]byte(transactionID))
	return int(h.Sum32() % sweepShards)
}

// Line is a reserved (or sold) product line: what a record remembers.
type Line struct {
	ProductID string `json:"productId"`
	GUID      string `json:"guid,omitempty"`
	Quantity  int64  `json:"quantity"`
	Cents     int64  `json:"cents,omitempty"`
}

// RecordKey is the key of a purchase record.
func RecordKey(transactionID string) string { return "purchase#" + transactionID }

// itemsKey is the canonical form of a set of lines: product ids with their
// quantities, sorted. Confirm and cancel match the registration by it.
func itemsKey(lines []Line) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = l.ProductID + "*" + strconv.FormatInt(l.Quantity, 10)
	}
	sort.Strings(parts)
	return strings.Join(parts, "|")
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// record is a purchase record as read back.
type record struct {
	Exists        bool
	State         string
	PlayerID      string
	ItemsKey      string
	Items         []Line
	Response      []byte
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
	r.State = store.StringAttr(item[attrState])
	r.PlayerID = store.StringAttr(item[attrPlayer])
	r.ItemsKey = store.StringAttr(item[attrItemsKey])
	r.Response = store.BytesAttr(item["response"])
	r.ConfirmFP = store.StringAttr(item[attrConfirmFP])
	r.ConfirmResp = store.BytesAttr(item[attrConfirmResp])
	r.CancelReason = store.StringAttr(item[attrCancelReason])
	r.CancelFP = store.StringAttr(item[attrCancelFP])
	if ms, err := store.IntAttr(item[attrReservedUntil]); err == nil {
		r.ReservedUntil = time.UnixMilli(ms)
	}
	if raw := store.StringAttr(item[attrGranted]); raw != "" {
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
	r.RefundedRaw = store.StringAttr(item[attrRefunded])
	if r.RefundedRaw != "" {
		if err := json.Unmarshal([]byte(r.RefundedRaw), &r.Refunded); err != nil {
			return r, fmt.Errorf("purchase record: refunded: %w", err)
		}
	}
	if raw := store.StringAttr(item[attrItems]); raw != "" {
		if err := json.Unmarshal([]byte(raw), &r.Items); err != nil {
			return r, fmt.Errorf("purchase record: items: %w", err)
		}
	}
	return r, nil
}

func sv(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func nv(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
func bv(b []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: b} }
func boolv(b bool) types.AttributeValue {
	return &types.AttributeValueMemberBOOL{Value: b}
}
func ts(t time.Time) types.AttributeValue { return sv(t.UTC().Format(time.RFC3339Nano)) }

func linesJSON(lines []Line) string {
	b, _ := json.Marshal(lines)
	return string(b)
}

func recordKeyAttr(transactionID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{store.AttrPK: sv(RecordKey(transactionID))}
}

// conditionNames are the record attributes a stateChange condition may
// test, by their placeholder.
var conditionNames = map[string]string{
	"#state": attrState, "#playerId": attrPlayer, "#itemsKey": attrItemsKey,
	"#sweepAt": attrSweepAt, "#refunded": attrRefunded,
}

// stateChange is the first item of confirm, cancel and sweep transactions:
// the record moves from one state to another, conditional on what the
// caller believes the record holds.
type stateChange struct {
	table  string
	txID   string
	cond   []string // condition clauses, ANDed; placeholders from conditionNames
	set    map[string]types.AttributeValue
	remove []string
	values map[string]types.AttributeValue // condition values
}

func (c stateChange) item() types.TransactWriteItem {
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var sets []string
	i := 0
	keys := make([]string, 0, len(c.set))
	for k := range c.set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i++
		n, v := "#s"+strconv.Itoa(i), ":s"+strconv.Itoa(i)
		names[n] = k
		values[v] = c.set[k]
		sets = append(sets, n+" = "+v)
	}
	expr := "SET " + strings.Join(sets, ", ")
	if len(c.remove) > 0 {
		var rm []string
		for j, k := range c.remove {
			n := "#r" + strconv.Itoa(j)
			names[n] = k
			rm = append(rm, n)
		}
		expr += " REMOVE " + strings.Join(rm, ", ")
	}
	for k, v := range c.values {
		values[k] = v
	}
	cond := strings.Join(c.cond, " AND ")
	for placeholder, attr := range conditionNames {
		if strings.Contains(cond, placeholder) {
			names[placeholder] = attr
		}
	}
	u := &types.Update{
		TableName:                 aws.String(c.table),
		Key:                       recordKeyAttr(c.txID),
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
	if len(c.cond) > 0 {
		u.ConditionExpression = aws.String(cond)
		u.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	return types.TransactWriteItem{Update: u}
}
