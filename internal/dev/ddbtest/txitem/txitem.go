// Package txitem reads a built DynamoDB transaction item back for tests that
// check what a write would do without sending it: its expressions with the
// attribute names and values substituted, after checking that the
// expressions and their name and value maps agree (DynamoDB refuses a name
// or value that is undefined or unused), and whether its condition holds on
// a given row.
//
// It imports nothing of Tollgate, so the packages that build transaction
// items can use it in their own tests.
package txitem

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item is a transaction item read back.
type Item struct {
	Text

	cond   string
	names  map[string]string
	values map[string]types.AttributeValue
}

// Text is what an item writes, comparable with ==.
type Text struct {
	Op    string // Update or Put
	Table string
	// Key is the key (Update) or the item's pk and sk (Put), as Format
	// writes values: `pk="alice" sk="item#gem"`.
	Key string
	// Update and Condition are the expressions with names and values
	// substituted and white space collapsed; Condition is "" when the item
	// has none.
	Update    string
	Condition string
	// ReturnsOld reports ReturnValuesOnConditionCheckFailure ALL_OLD.
	ReturnsOld bool
}

// Read reads an Update or Put transaction item.
func Read(ti types.TransactWriteItem) (Item, error) {
	var it Item
	var key map[string]types.AttributeValue
	var exprs []string
	switch {
	case ti.Update != nil:
		u := ti.Update
		it = Item{Text: Text{Op: "Update", Table: aws.ToString(u.TableName),
			ReturnsOld: u.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld},
			cond: aws.ToString(u.ConditionExpression), names: u.ExpressionAttributeNames, values: u.ExpressionAttributeValues}
		key = u.Key
		if aws.ToString(u.UpdateExpression) == "" {
			return Item{}, errors.New("update without an update expression")
		}
		exprs = []string{aws.ToString(u.UpdateExpression), it.cond}
	case ti.Put != nil:
		p := ti.Put
		it = Item{Text: Text{Op: "Put", Table: aws.ToString(p.TableName),
			ReturnsOld: p.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld},
			cond: aws.ToString(p.ConditionExpression), names: p.ExpressionAttributeNames, values: p.ExpressionAttributeValues}
		key = map[string]types.AttributeValue{}
		for _, k := range []string{"pk", "sk"} {
			if v, ok := p.Item[k]; ok {
				key[k] = v
			}
		}
		exprs = []string{it.cond}
	default:
		return Item{}, errors.New("neither an Update nor a Put")
	}
	if err := consistent(exprs, it.names, it.values); err != nil {
		return Item{}, err
	}
	it.Key = formatMap(key, " ")
	if ti.Update != nil {
		it.Update = it.substitute(aws.ToString(ti.Update.UpdateExpression))
	}
	it.Condition = it.substitute(it.cond)
	return it, nil
}

var (
	nameToken  = regexp.MustCompile(`#[A-Za-z0-9_]+`)
	valueToken = regexp.MustCompile(`:[A-Za-z0-9_]+`)
)

// consistent checks that every name and value the expressions use is
// defined, and every one defined is used.
func consistent(exprs []string, names map[string]string, values map[string]types.AttributeValue) error {
	all := strings.Join(exprs, "\n")
	var problems []string
	check := func(kind string, re *regexp.Regexp, defined map[string]bool) {
		used := map[string]bool{}
		for _, tok := range re.FindAllString(all, -1) {
			used[tok] = true
			if !defined[tok] {
				problems = append(problems, fmt.Sprintf("%s %s used but not defined", kind, tok))
			}
		}
		for tok := range defined {
			if !used[tok] {
				problems = append(problems, fmt.Sprintf("%s %s defined but unused", kind, tok))
			}
		}
	}
	check("name", nameToken, keys(names))
	check("value", valueToken, keys(values))
	sort.Strings(problems)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func keys[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func (it Item) substitute(expr string) string {
	expr = nameToken.ReplaceAllStringFunc(expr, func(tok string) string { return it.names[tok] })
	expr = valueToken.ReplaceAllStringFunc(expr, func(tok string) string { return Format(it.values[tok]) })
	return strings.Join(strings.Fields(expr), " ")
}

// Format writes an attribute value for reading: strings quoted, numbers and
// booleans bare, maps as {k: v} in key order.
func Format(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return strconv.Quote(v.Value)
	case *types.AttributeValueMemberN:
		return v.Value
	case *types.AttributeValueMemberBOOL:
		return strconv.FormatBool(v.Value)
	case *types.AttributeValueMemberNULL:
		return "null"
	case *types.AttributeValueMemberB:
		return "b" + strconv.Quote(string(v.Value))
	case *types.AttributeValueMemberM:
		return "{" + formatMap(v.Value, ", ") + "}"
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = Format(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case nil:
		return "<nil>"
	}
	return fmt.Sprintf("%T", v)
}

func formatMap(m map[string]types.AttributeValue, sep string) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+Format(v))
	}
	sort.Strings(parts)
	return strings.Join(parts, sep)
}

// Holds reports whether the item's condition holds on row (nil: no item),
// as DynamoDB evaluates it: a comparison with a missing attribute is false.
// An item without a condition always holds. It supports what the
// expression builder writes for comparisons, AND, OR, NOT,
// attribute_exists and attribute_not_exists; anything else is an error.
func (it Item) Holds(row map[string]types.AttributeValue) (bool, error) {
	if it.cond == "" {
		return true, nil
	}
	p := &parser{toks: tokenize(it.cond), it: it, row: row}
	ok, err := p.or()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", it.cond, err)
	}
	return ok, nil
}

var token = regexp.MustCompile(`\(|\)|,|<=|>=|<>|=|<|>|[#:]?[A-Za-z0-9_]+(\.[#]?[A-Za-z0-9_]+)*`)

func tokenize(s string) []string { return token.FindAllString(s, -1) }

type parser struct {
	toks []string
	pos  int
	it   Item
	row  map[string]types.AttributeValue
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string { t := p.peek(); p.pos++; return t }

func (p *parser) expect(t string) error {
	if got := p.next(); got != t {
		return fmt.Errorf("want %q, got %q", t, got)
	}
	return nil
}

func (p *parser) or() (bool, error) {
	v, err := p.and()
	for err == nil && p.peek() == "OR" {
		p.next()
		var r bool
		r, err = p.and()
		v = v || r
	}
	return v, err
}

func (p *parser) and() (bool, error) {
	v, err := p.not()
	for err == nil && p.peek() == "AND" {
		p.next()
		var r bool
		r, err = p.not()
		v = v && r
	}
	return v, err
}

func (p *parser) not() (bool, error) {
	if p.peek() == "NOT" {
		p.next()
		v, err := p.not()
		return !v, err
	}
	return p.primary()
}

func (p *parser) primary() (bool, error) {
	switch t := p.peek(); t {
	case "(":
		p.next()
		v, err := p.or()
		if err != nil {
			return false, err
		}
		return v, p.expect(")")
	case "attribute_exists", "attribute_not_exists":
		p.next()
		if err := p.expect("("); err != nil {
			return false, err
		}
		v, err := p.operand()
		if err != nil {
			return false, err
		}
		return (v != nil) == (t == "attribute_exists"), p.expect(")")
	}
	left, err := p.operand()
	if err != nil {
		return false, err
	}
	op := p.next()
	right, err := p.operand()
	if err != nil {
		return false, err
	}
	return compare(left, op, right)
}

// operand is a path's value in the row (nil when missing) or a value.
func (p *parser) operand() (types.AttributeValue, error) {
	t := p.next()
	if strings.HasPrefix(t, ":") {
		v, ok := p.it.values[t]
		if !ok {
			return nil, fmt.Errorf("undefined value %s", t)
		}
		return v, nil
	}
	if t == "" || !strings.HasPrefix(t, "#") {
		return nil, fmt.Errorf("unsupported operand %q", t)
	}
	var cur types.AttributeValue = &types.AttributeValueMemberM{Value: p.row}
	for _, part := range strings.Split(t, ".") {
		name, ok := p.it.names[part]
		if !ok {
			return nil, fmt.Errorf("undefined name %s", part)
		}
		m, isMap := cur.(*types.AttributeValueMemberM)
		if !isMap {
			return nil, nil
		}
		if cur = m.Value[name]; cur == nil {
			return nil, nil
		}
	}
	return cur, nil
}

func compare(a types.AttributeValue, op string, b types.AttributeValue) (bool, error) {
	if a == nil || b == nil {
		return false, nil
	}
	var c int
	switch a := a.(type) {
	case *types.AttributeValueMemberN:
		bn, ok := b.(*types.AttributeValueMemberN)
		if !ok {
			return op == "<>", nil
		}
		x, okx := new(big.Float).SetString(a.Value)
		y, oky := new(big.Float).SetString(bn.Value)
		if !okx || !oky {
			return false, fmt.Errorf("bad number %q or %q", a.Value, bn.Value)
		}
		c = x.Cmp(y)
	case *types.AttributeValueMemberS:
		bs, ok := b.(*types.AttributeValueMemberS)
		if !ok {
			return op == "<>", nil
		}
		c = strings.Compare(a.Value, bs.Value)
	case *types.AttributeValueMemberBOOL:
		bb, ok := b.(*types.AttributeValueMemberBOOL)
		if !ok {
			return op == "<>", nil
		}
		if op != "=" && op != "<>" {
			return false, fmt.Errorf("%s on booleans", op)
		}
		if a.Value != bb.Value {
			c = 1
		}
	default:
		return false, fmt.Errorf("comparison of %T", a)
	}
	switch op {
	case "=":
		return c == 0, nil
	case "<>":
		return c != 0, nil
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	case ">=":
		return c >= 0, nil
	}
	return false, fmt.Errorf("unsupported comparator %q", op)
}
