package dynamo

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tollgate-dev/tollgate/shared/platform/validate"
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
// integral value in any spelling is accepted (validate.WholeNumber).
func IntAttr(v types.AttributeValue) (int64, error) {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0, ErrNotNumber
	}
	i, err := validate.WholeNumber([]byte(n.Value))
	if err != nil {
		return 0, fmt.Errorf("%q %w", n.Value, err)
	}
	return i, nil
}

// TimeAttr reads a timestamp attribute written by Time: the zero time when
// it is absent, an error when it is not a Timestamp.
func TimeAttr(v types.AttributeValue) (time.Time, error) {
	s := StringAttr(v)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a timestamp", s)
	}
	return t, nil
}
