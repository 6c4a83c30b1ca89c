package store

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Readers of single attribute values, shared by every package that reads
// rows. A missing attribute or one of another type reads as the zero value
// (or an error for IntAttr).

// StringAttr returns an S attribute's value, or "".
func StringAttr(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// BytesAttr returns a B attribute's value, or nil.
func BytesAttr(v types.AttributeValue) []byte {
	if b, ok := v.(*types.AttributeValueMemberB); ok {
		return b.Value
	}
	return nil
}

// BoolAttr returns a BOOL attribute's value, or false.
func BoolAttr(v types.AttributeValue) bool {
	b, ok := v.(*types.AttributeValueMemberBOOL)
	return ok && b.Value
}

// ErrNotNumber is returned by IntAttr for a missing or non-N attribute.
var ErrNotNumber = errors.New("missing or not a number")

// IntAttr reads an integer N attribute. DynamoDB spells integers as "15",
// but some implementations write "15.0" or "1.5E1" after arithmetic: an
// integral value in any spelling is accepted.
func IntAttr(v types.AttributeValue) (int64, error) {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0, ErrNotNumber
	}
	if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%q is not an integer", n.Value)
	}
	return int64(f), nil
}

// IntAttrPtr is IntAttr returning nil for an attribute that is not an
// integer (an optional number).
func IntAttrPtr(v types.AttributeValue) *int64 {
	n, err := IntAttr(v)
	if err != nil {
		return nil
	}
	return &n
}
