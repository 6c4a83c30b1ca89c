package dynamo

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The one set of writers of attribute values and of transaction items: the
// packages that own a table build their rows, keys, conditions and updates
// with these and with the expression package, never by pasting expression
// strings.

// S is a string attribute value.
func S(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// N is an integer attribute value.
func N(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// B is a binary attribute value.
func B(v []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }

// Bool is a boolean attribute value.
func Bool(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

// Time is a timestamp attribute value (see Timestamp).
func Time(t time.Time) types.AttributeValue { return S(Timestamp(t)) }

// Timestamp is how every table spells a time: RFC 3339 in UTC with
// nanoseconds.
func Timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Key is an item's primary key.
type Key = map[string]types.AttributeValue

// PK is the key of an item of a table without a sort key.
func PK(pk string) Key { return Key{AttrPK: S(pk)} }

// PKSK is the key of an item of a table with a sort key.
func PKSK(pk, sk string) Key { return Key{AttrPK: S(pk), AttrSK: S(sk)} }

// NotExists is the condition that the item does not exist yet.
func NotExists() expression.ConditionBuilder {
	return expression.AttributeNotExists(expression.Name(AttrPK))
}

// Exists is the condition that the item exists.
func Exists() expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name(AttrPK))
}

// Build builds an expression. The builders come from the table owners'
// constant attribute names, so a failure is a programming error that every
// test of the owner reports; it panics rather than thread an impossible
// error through every write.
func Build(b expression.Builder) expression.Expression {
	e, err := b.Build()
	if err != nil {
		panic(fmt.Sprintf("dynamodb expression: %v", err))
	}
	return e
}

// UpdateOp is a transaction item updating the item at key of table, only
// if cond holds (nil: unconditionally). When cond fails, the transaction's
// cancellation reason carries the item as it was (ALL_OLD).
func UpdateOp(table string, key Key, update expression.UpdateBuilder, cond *expression.ConditionBuilder) types.TransactWriteItem {
	b := expression.NewBuilder().WithUpdate(update)
	if cond != nil {
		b = b.WithCondition(*cond)
	}
	e := Build(b)
	u := &types.Update{
		TableName:                 aws.String(table),
		Key:                       key,
		UpdateExpression:          e.Update(),
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}
	if cond != nil {
		u.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	return types.TransactWriteItem{Update: u}
}

// PutNewOp is a transaction item writing item to table only if no item
// with its key exists; when one does, the cancellation reason carries it
// (ALL_OLD).
func PutNewOp(table string, item map[string]types.AttributeValue) types.TransactWriteItem {
	e := notExists.Fill()
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                           aws.String(table),
		Item:                                item,
		ConditionExpression:                 e.Condition,
		ExpressionAttributeNames:            e.Names,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

var notExists = NewShape(func(func(int) expression.ValueBuilder) expression.Builder {
	return expression.NewBuilder().WithCondition(NotExists())
})

// CheckOp is a transaction item that writes nothing but fails the
// transaction unless cond holds on the item at key of table (ALL_OLD on
// failure).
func CheckOp(table string, key Key, cond expression.ConditionBuilder) types.TransactWriteItem {
	e := Build(expression.NewBuilder().WithCondition(cond))
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                           aws.String(table),
		Key:                                 key,
		ConditionExpression:                 e.Condition(),
		ExpressionAttributeNames:            e.Names(),
		ExpressionAttributeValues:           e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// Cond returns a pointer to c, for UpdateOp's optional condition.
func Cond(c expression.ConditionBuilder) *expression.ConditionBuilder { return &c }

// SetAll is an update setting every attribute of values, in name order (a
// stable expression for equal inputs).
func SetAll(values map[string]types.AttributeValue) expression.UpdateBuilder {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	var u expression.UpdateBuilder
	for _, name := range names {
		u = u.Set(expression.Name(name), expression.Value(values[name]))
	}
	return u
}

// RemoveAll adds the removal of names to u.
func RemoveAll(u expression.UpdateBuilder, names ...string) expression.UpdateBuilder {
	for _, name := range names {
		u = u.Remove(expression.Name(name))
	}
	return u
}

// DeleteOp is a transaction item deleting the item at key of table, only
// if cond holds (nil: unconditionally); when cond fails, the cancellation
// reason carries the item as it was (ALL_OLD).
func DeleteOp(table string, key Key, cond *expression.ConditionBuilder) types.TransactWriteItem {
	d := &types.Delete{TableName: aws.String(table), Key: key}
	if cond != nil {
		e := Build(expression.NewBuilder().WithCondition(*cond))
		d.ConditionExpression = e.Condition()
		d.ExpressionAttributeNames = e.Names()
		d.ExpressionAttributeValues = e.Values()
		d.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	return types.TransactWriteItem{Delete: d}
}

// PutOp is a transaction item writing item to table whatever is there.
func PutOp(table string, item map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: item}}
}
