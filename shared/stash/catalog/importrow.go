package catalog

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/dynamo"
)

// What an import writes to a row: the item of a new product, and the
// expressions of an UpdateItem of an existing one.

// newRow is the row of a product created by an import: no sales yet,
// available = stock (0 when unlimited), version 1, active. Empty optional
// fields are left out, as the import removes them when they are emptied.
func newRow(p Product, now time.Time) (map[string]types.AttributeValue, error) {
	row := map[string]any{
		dynamo.AttrPK: p.ProductID,
		AttrProductID: p.ProductID,
		AttrName:      p.Name,
		AttrPrices:    p.Prices,
		AttrUnlimited: p.Stock == nil,
		AttrAvailable: int64(0),
		AttrReserved:  int64(0),
		AttrSold:      int64(0),
		AttrLocked:    p.Locked,
		AttrActive:    true,
		AttrVersion:   int64(1),
		AttrUpdatedAt: dynamo.Timestamp(now),
	}
	for attr, v := range map[string]string{AttrGUID: p.GUID, AttrDescription: p.Description, AttrImageURL: p.ImageURL} {
		if v != "" {
			row[attr] = v
		}
	}
	if len(p.Metadata) > 0 {
		row[AttrMetadata] = p.Metadata
	}
	if p.Stock != nil {
		row[AttrStock] = *p.Stock
		row[AttrAvailable] = *p.Stock
	}
	if p.PerPlayerLimit != nil {
		row[AttrPerPlayerLimit] = *p.PerPlayerLimit
	}
	item, err := attributevalue.MarshalMap(row)
	if err != nil {
		return nil, fmt.Errorf("encode catalog row %s: %w", p.ProductID, err)
	}
	return item, nil
}

// rowUpdate collects one UpdateItem: the fields it changes (file names, in
// file order, for the Change), the update, and the conditions that the
// update is only right under (the counters or stock it was computed from).
type rowUpdate struct {
	fields []string
	update expression.UpdateBuilder
	conds  []expression.ConditionBuilder
}

// changed records that field differs from the file.
func (u *rowUpdate) changed(field string) { u.fields = append(u.fields, field) }

func (u *rowUpdate) set(attr string, v any) {
	u.update = u.update.Set(expression.Name(attr), expression.Value(v))
}

func (u *rowUpdate) remove(attr string) { u.update = u.update.Remove(expression.Name(attr)) }

func (u *rowUpdate) add(attr string, delta int64) {
	u.update = u.update.Add(expression.Name(attr), expression.Value(delta))
}

// require adds a condition of the write.
func (u *rowUpdate) require(c expression.ConditionBuilder) { u.conds = append(u.conds, c) }

// requireEqual adds the condition attr = v.
func (u *rowUpdate) requireEqual(attr string, v any) {
	u.require(expression.Name(attr).Equal(expression.Value(v)))
}

// text updates an optional string field: set when the file has it, removed
// when the file emptied it (rows never hold empty strings).
func (u *rowUpdate) text(field, want, have string) {
	if want == have {
		return
	}
	u.changed(field)
	if want == "" {
		u.remove(field)
	} else {
		u.set(field, want)
	}
}

// build returns the update and the AND of the conditions (at least one).
func (u *rowUpdate) build() (expression.Expression, error) {
	if len(u.conds) == 0 {
		return expression.Expression{}, fmt.Errorf("update without a condition")
	}
	cond := u.conds[0]
	if len(u.conds) > 1 {
		cond = expression.And(u.conds[0], u.conds[1], u.conds[2:]...)
	}
	x, err := expression.NewBuilder().WithCondition(cond).WithUpdate(u.update).Build()
	if err != nil {
		return expression.Expression{}, fmt.Errorf("build update expression: %w", err)
	}
	return x, nil
}
