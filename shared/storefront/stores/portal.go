package stores

import (
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TransactWriteItem is the audit op a portal change carries (built by
// portal.AuditOp).
type TransactWriteItem = types.TransactWriteItem

// NoAudit is the audit op of a change made outside the partner portal
// (the operator's cmd/stores, a stores file's import): no audit row. Every
// portal change passes the audit row it writes (portal.AuditOp), which
// goes into the same transaction as the change.
var NoAudit types.TransactWriteItem

// withAudit is ops with audit last (NoAudit: ops as they are). Audit goes
// last so the indexes of a cancellation's reasons stay those of ops.
func withAudit(ops []types.TransactWriteItem, audit types.TransactWriteItem) []types.TransactWriteItem {
	if audit.Put == nil && audit.Update == nil && audit.Delete == nil && audit.ConditionCheck == nil {
		return ops
	}
	return append(ops, audit)
}

// validText reports whether s is a name a member typed: 1 to max bytes of
// printable characters, no surrounding white space.
func validText(s string, max int) bool {
	return s != "" && len(s) <= max && strings.TrimSpace(s) == s &&
		strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) || r == unicode.ReplacementChar }) < 0
}
