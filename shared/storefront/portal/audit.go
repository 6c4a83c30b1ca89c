package portal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// The audit log: a partition per store and month, so no partition grows
// without bound, rows sorted by time (a fixed-width UTC timestamp, then a
// random suffix so two changes in one nanosecond both stay). Audit reads
// newest first, month by month, back at most AuditMonths.

// AuditMonths is how many months back Audit reads (the rows stay in the
// table after).
const AuditMonths = 24

const (
	auditMonthLayout = "2006-01"
	auditTimeLayout  = "20060102T150405.000000000Z"
)

// Audit actions the portal writes itself; the stores package names its
// own (e.g. "apikey.create").
const (
	ActionSignIn       = "signin"        // detail: the method (link, passkey, invite)
	ActionInvite       = "member.invite" // detail: the address and role
	ActionJoin         = "member.join"   // detail: the role
	ActionSetRole      = "member.role"   // detail: the address and the new role
	ActionRemoveMember = "member.remove" // detail: the address
)

func auditPK(slug, month string) string { return dynamo.Tuple("audit", slug, month) }

// AuditOp is the Put of one audit row of store slug: a goes into the same
// TransactWriteItems as the change it records. detail never holds a
// secret, an API key, a license key or an email body.
func AuditOp(portalTable, slug string, a Actor, action, detail string, at time.Time) types.TransactWriteItem {
	at = at.UTC()
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix) // never fails (crypto/rand)
	return dynamo.PutNewOp(portalTable, item{
		dynamo.AttrPK: dynamo.S(auditPK(slug, at.Format(auditMonthLayout))),
		dynamo.AttrSK: dynamo.S(at.Format(auditTimeLayout) + "#" + hex.EncodeToString(suffix)),
		attrActor:     dynamo.S(a.Email), attrIP: dynamo.S(a.IP),
		attrAction: dynamo.S(action), attrDetail: dynamo.S(detail), attrAt: dynamo.Time(at),
	})
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	At             time.Time
	Actor, IP      string // who, from which client IP ("" for the operator's tools)
	Action, Detail string
}

// Audit reads store slug's log newest first: at most limit entries (1-100)
// after cursor ("" the newest), and the cursor of the next page ("" when
// this page is the last; a full page always gives one, which may lead to an
// empty page).
func (s *Service) Audit(ctx context.Context, slug, cursor string, limit int) ([]AuditEntry, string, error) {
	limit = max(1, min(limit, 100))
	now := s.now().UTC()
	newest := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	oldest := newest.AddDate(0, -(AuditMonths - 1), 0)
	month, after := newest, ""
	if cursor != "" {
		m, a, err := parseCursor(cursor)
		if err != nil || m.After(newest) || m.Before(oldest) {
			return nil, "", ErrCursor
		}
		month, after = m, a
	}
	var out []AuditEntry
	for !month.Before(oldest) {
		pk := auditPK(slug, month.Format(auditMonthLayout))
		e := dynamo.Build(expression.NewBuilder().WithKeyCondition(expression.Key(dynamo.AttrPK).Equal(expression.Value(pk))))
		in := &dynamodb.QueryInput{TableName: aws.String(s.table()), ScanIndexForward: aws.Bool(false),
			KeyConditionExpression: e.KeyCondition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			Limit: aws.Int32(int32(limit - len(out)))} //nolint:gosec // G115: at most 100
		if after != "" {
			in.ExclusiveStartKey = dynamo.PKSK(pk, after)
		}
		res, err := s.st.DB.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("portal: read the audit log of %s: %w", slug, err)
		}
		for _, it := range res.Items {
			at, err := dynamo.TimeAttr(it[attrAt])
			if err != nil {
				return nil, "", fmt.Errorf("portal: audit row of %s: %w", slug, err)
			}
			out = append(out, AuditEntry{At: at, Actor: dynamo.StringAttr(it[attrActor]), IP: dynamo.StringAttr(it[attrIP]),
				Action: dynamo.StringAttr(it[attrAction]), Detail: dynamo.StringAttr(it[attrDetail])})
			after = dynamo.StringAttr(it[dynamo.AttrSK])
		}
		if len(out) == limit {
			return out, formatCursor(month, after), nil
		}
		if len(res.LastEvaluatedKey) > 0 {
			continue // this month has more (a page ended early)
		}
		month, after = month.AddDate(0, -1, 0), ""
	}
	return out, "", nil
}

// A cursor is the month and the sort key of the last row shown, as one
// Tuple in base64url: opaque to the page, checked when it comes back.
func formatCursor(month time.Time, sk string) string {
	return b64([]byte(dynamo.Tuple(strconv.Itoa(month.Year()*100+int(month.Month())), sk)))
}

func parseCursor(c string) (time.Time, string, error) {
	raw, err := base64RawURL(c)
	if err != nil {
		return time.Time{}, "", err
	}
	parts, err := dynamo.SplitTuple(string(raw))
	if err != nil || len(parts) != 2 {
		return time.Time{}, "", ErrCursor
	}
	ym, err := strconv.Atoi(parts[0])
	if err != nil || ym%100 < 1 || ym%100 > 12 {
		return time.Time{}, "", ErrCursor
	}
	if _, err := time.Parse(auditTimeLayout, parts[1][:min(len(parts[1]), len(auditTimeLayout))]); err != nil {
		return time.Time{}, "", ErrCursor
	}
	return time.Date(ym/100, time.Month(ym%100), 1, 0, 0, 0, 0, time.UTC), parts[1], nil
}
