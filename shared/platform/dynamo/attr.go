package dynamo

import (
	"errors"
	"fmt"
	"strings"
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

// ItemSize is an item's size as DynamoDB counts it for capacity and its
// 400 KB limit: each attribute's name and value (strings and binaries by
// their bytes, numbers by about one byte per two significant digits plus
// one, booleans and nulls one byte, documents three bytes plus one per
// element plus their elements).
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// numberSize: significant digits (leading and trailing zeros trimmed), two
// to a byte, plus one byte.
func numberSize(s string) int {
	digits := strings.Trim(strings.NewReplacer("-", "", "+", "", ".", "").Replace(s), "0")
	return (len(digits)+1)/2 + 1
}
