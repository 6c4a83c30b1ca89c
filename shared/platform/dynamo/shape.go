package dynamo

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Shape is an expression whose structure is fixed and whose values change
// from use to use (values written in the builder, not taken from a slot,
// are constants of the shape). It is built once, through the expression
// builder, with a marker value in each slot; Fill then puts a use's values under the
// markers' placeholders. Building (the tree, the strings, the names) is most
// of an expression's cost, and a filled shape is exactly what Build returns
// for the same values (TestShapeFillsLikeBuild).
type Shape struct {
	build func(slot func(i int) expression.ValueBuilder) expression.Builder

	once  sync.Once
	expr  Filled
	slots map[string]int // value placeholder -> slot
	fixed map[string]types.AttributeValue
	n     int // slots
}

// Filled is a shape with its values: the fields of a request's expression.
// The strings and Names are shared by every use: read them only.
type Filled struct {
	Condition, KeyCondition, Update, Projection *string
	Names                                       map[string]string
	Values                                      map[string]types.AttributeValue
}

// NewShape returns the shape build describes: build makes the builder,
// taking each value from slot(i), i counting from 0. It is called once, on
// first use.
func NewShape(build func(slot func(i int) expression.ValueBuilder) expression.Builder) *Shape {
	return &Shape{build: build}
}

// markerPrefix starts the marker values a shape is built with: no value of
// a table starts with NUL.
const markerPrefix = "\x00tollgate-shape-slot-"

func (s *Shape) compile() {
	e := Build(s.build(func(i int) expression.ValueBuilder {
		s.n = max(s.n, i+1)
		return expression.Value(&types.AttributeValueMemberS{Value: markerPrefix + strconv.Itoa(i)})
	}))
	s.expr = Filled{Condition: e.Condition(), KeyCondition: e.KeyCondition(), Update: e.Update(), Projection: e.Projection(), Names: e.Names()}
	s.slots, s.fixed = map[string]int{}, map[string]types.AttributeValue{}
	for ph, v := range e.Values() {
		m, ok := v.(*types.AttributeValueMemberS)
		if !ok || !strings.HasPrefix(m.Value, markerPrefix) {
			s.fixed[ph] = v // a constant of the shape
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(m.Value, markerPrefix))
		if err != nil {
			panic(fmt.Sprintf("dynamodb expression shape: placeholder %s: %v", ph, err))
		}
		s.slots[ph] = i
	}
}

// Fill returns the expression with vals in its slots, in slot order. A
// count that does not match the shape is a programming error: it panics,
// as Build does.
func (s *Shape) Fill(vals ...types.AttributeValue) Filled {
	s.once.Do(s.compile)
	if len(vals) != s.n {
		panic(fmt.Sprintf("dynamodb expression shape: %d values for %d slots", len(vals), s.n))
	}
	f := s.expr
	if len(s.slots)+len(s.fixed) > 0 {
		f.Values = make(map[string]types.AttributeValue, len(s.slots)+len(s.fixed))
		for ph, i := range s.slots {
			f.Values[ph] = vals[i]
		}
		for ph, v := range s.fixed {
			f.Values[ph] = v
		}
	}
	return f
}

// UpdateOp is UpdateOp with the update (and the condition, if the shape
// has one) of shape filled with vals.
func (s *Shape) UpdateOp(table string, key Key, vals ...types.AttributeValue) types.TransactWriteItem {
	f := s.Fill(vals...)
	u := &types.Update{
		TableName:                 aws.String(table),
		Key:                       key,
		UpdateExpression:          f.Update,
		ConditionExpression:       f.Condition,
		ExpressionAttributeNames:  f.Names,
		ExpressionAttributeValues: f.Values,
	}
	if f.Condition != nil {
		u.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	return types.TransactWriteItem{Update: u}
}

// CheckOp is CheckOp with the condition of shape filled with vals.
func (s *Shape) CheckOp(table string, key Key, vals ...types.AttributeValue) types.TransactWriteItem {
	f := s.Fill(vals...)
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                           aws.String(table),
		Key:                                 key,
		ConditionExpression:                 f.Condition,
		ExpressionAttributeNames:            f.Names,
		ExpressionAttributeValues:           f.Values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}
